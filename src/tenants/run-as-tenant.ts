import type { EmbeddingInput } from '../llm/embeddings/embedding-request.js';
import type { TurnGate } from '../llm/turn-gate.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import { countTokens, type Encoding, encodingFor } from '../resilience/estimate-tokens.js';
import type { Admission, AdmittedRequest, TenantAdmission, TenantCaller } from './tenant-admission.js';
import type { TenantRepository } from './tenant-repository.js';

/** What the library needs of the tenant services to run a call as a tenant. */
export interface TenantCallServices {
  repository: Pick<TenantRepository, 'showKey' | 'showTeam'>;
  admission: Pick<TenantAdmission, 'admit' | 'check'>;
}

/** A tenant's call, once its key (by name or id) is found and allowed the model. */
export interface TenantCall {
  caller: TenantCaller;
  /** Bill the call to the key and team in the ledger. */
  attribution: UsageAttribution;
  /** Admits each model turn of the call as the service admits a call, and settles it to the turn's cost. */
  gate: TurnGate;
  /** Admits a call that is not a chat turn (embeddings), settled by the caller. */
  admit(request: AdmittedRequest, signal: AbortSignal | undefined): Promise<Admission>;
}

/**
 * Finds `tenant` (a key's name or id) and its team and checks that they may call `model` now
 * (status, allowed models), before anything else: a call answered from the cache is checked too.
 * Limits and budgets are taken turn by turn, by the returned gate.
 */
export async function tenantCall(services: TenantCallServices, tenant: string, model: string): Promise<TenantCall> {
  const key = await services.repository.showKey(tenant);
  const team = key.teamId === null ? undefined : await services.repository.showTeam(key.teamId);
  const caller: TenantCaller = { key, team };
  services.admission.check(caller, model);
  return {
    caller,
    attribution: { keyId: key.id, teamId: team?.id ?? null },
    gate: (request, { noFallbacks, signal }) => services.admission.admit(caller, { ...request, noFallbacks }, signal),
    admit: (request, signal) => services.admission.admit(caller, request, signal),
  };
}

/**
 * An upper bound of the tokens of embeddings' inputs for whichever of `models` takes them: a text
 * counted by each model's tokenizer where Groundwork has one (once per distinct tokenizer), else
 * one token per UTF-8 byte, which bounds any tokenizer's count; a token array by its length.
 */
export function embeddingInputTokenBound(models: readonly string[], inputs: readonly EmbeddingInput[]): number {
  // One model of each tokenizer; none when a model has no tokenizer, as bytes then bound them all.
  const counted = new Map<Encoding, string>();
  let bytes = false;
  for (const model of models) {
    const encoding = encodingFor(model);
    if (encoding === undefined) bytes = true;
    else if (!counted.has(encoding)) counted.set(encoding, model);
  }
  const bound = (count: (text: string) => number) => {
    let tokens = 0;
    for (const input of inputs) tokens += typeof input === 'string' ? count(input) : input.length;
    return tokens;
  };
  if (bytes || counted.size === 0) return bound((text) => Buffer.byteLength(text, 'utf8'));
  return Math.max(...[...counted.values()].map((model) => bound((text) => countTokens(text, model))));
}
