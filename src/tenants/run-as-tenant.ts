import type { LlmResponse } from '../llm/llm-client-types.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import type { AdmittedRequest, TenantAdmission } from './tenant-admission.js';
import type { TenantRepository } from './tenant-repository.js';

/** What the call is run with once admitted. */
export interface TenantCallBounds {
  /** Send the call with this output maximum: the reservation covers it and no more. */
  maxTokens: number;
  /** Bill the call to the key and team in the ledger. */
  attribution: UsageAttribution;
}

/**
 * Runs one in-process call as a tenant (a key, by name or id): admits it exactly as the service
 * does (status, models, rates, calls in flight, budgets), runs `call` within the granted bounds,
 * and settles to the cost the response reports, or to nothing when the call fails.
 */
export async function runAsTenant<T>(
  services: { repository: Pick<TenantRepository, 'showKey' | 'showTeam'>; admission: Pick<TenantAdmission, 'admit'> },
  tenant: string,
  request: Pick<AdmittedRequest, 'model' | 'messages' | 'maxTokens' | 'tools' | 'noFallbacks'>,
  call: (bounds: TenantCallBounds) => Promise<LlmResponse<T>>,
  signal?: AbortSignal,
): Promise<LlmResponse<T>> {
  const key = await services.repository.showKey(tenant);
  const team = key.teamId === null ? undefined : await services.repository.showTeam(key.teamId);
  const admission = await services.admission.admit({ key, team }, request, signal);
  try {
    const response = await call({ maxTokens: admission.maxTokens, attribution: { keyId: key.id, teamId: team?.id ?? null } });
    await admission.settle(response.usage.costUsd, response.usage.totalTokens);
    return response;
  } catch (error) {
    await admission.settle(0, 0);
    throw error;
  }
}
