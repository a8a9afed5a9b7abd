import type { EmbeddingInput } from '../llm/embeddings/embedding-request.js';
import type { TurnGate } from '../llm/turn-gate.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import { countTokens, encodingFor } from '../resilience/estimate-tokens.js';
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
 * An upper bound of the tokens of embeddings' inputs: a text counted by the model's tokenizer
 * where Groundwork has it, else one token per UTF-8 byte; a token array by its length.
 */
export function embeddingInputTokenBound(model: string, inputs: readonly EmbeddingInput[]): number {
  const exact = encodingFor(model) !== undefined;
  let tokens = 0;
  for (const input of inputs) {
    if (typeof input !== 'string') tokens += input.length;
    else tokens += exact ? countTokens(input, model) : Buffer.byteLength(input, 'utf8');
  }
  return tokens;
}
