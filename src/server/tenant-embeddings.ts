import { embeddingSpendOf } from '../llm/embeddings/embedding-spend.js';
import type { TenantRateLimitState } from '../tenants/rate-limit-state.js';
import { embeddingInputTokenBound } from '../tenants/run-as-tenant.js';
import type { TenantCaller } from '../tenants/tenant-admission.js';
import type { ServiceBackend, ServiceEmbedding } from './service-backend.js';
import type { ServiceTenants } from './service-tenants.js';

/** The `embed` of a {@link ServiceBackend}. */
type Embed = NonNullable<ServiceBackend['embed']>;

/**
 * Embeddings as one virtual key makes them, admitted like a chat call: the key's and its team's
 * status and allowed models, their rates and calls in flight, and the worst case reserved on their
 * budgets — the inputs' token bound at the input price of every model the call may reach (embeddings
 * have no output). The call is attributed to the key in the ledger, and settled to what the
 * providers' answers cost (nothing for inputs answered from the cache), or, when it failed, to what
 * the batches answered before the failure cost.
 * Undefined when the backend offers no embeddings.
 */
export function tenantEmbeddings(
  backend: ServiceBackend,
  tenants: ServiceTenants,
  caller: TenantCaller,
  /** Told the key's per-minute limits as its buckets answered (for the `x-ratelimit-*` headers). */
  onRateLimit: (state: TenantRateLimitState) => void,
  /** Told when settling an answered call failed: the answer still goes out, as its provider billed it. */
  onSettleFailure?: (error: unknown) => void,
  /** Whose cached vectors the key shares (see `cacheScopeOf`); undefined: the instance's. */
  cacheScope?: string,
): Embed | undefined {
  const embed = backend.embed;
  if (embed === undefined) return undefined;
  const attribution = { keyId: caller.key.id, teamId: caller.team?.id ?? null };
  return async (request, options) => {
    const { model, fallbackModels } = backend.embeddingReach?.(request) ?? { model: request.model ?? '', fallbackModels: [] };
    const inputTokens = embeddingInputTokenBound([model, ...fallbackModels], request.inputs);
    const admission = await tenants.admission.admit(
      caller,
      { model, messages: [], maxTokens: 0, inputTokens, fallbackModels },
      options.signal,
      onRateLimit,
    );
    let embedding: ServiceEmbedding;
    try {
      embedding = await embed.call(backend, request, { ...options, attribution, ...(cacheScope === undefined ? {} : { cacheScope }) });
    } catch (error) {
      // Batches answered before a later one failed were billed (and are in the ledger row): charged, the rest refunded.
      const spent = embeddingSpendOf(error);
      await admission.settle(spent?.costUsd ?? 0, spent?.totalTokens ?? 0);
      throw error;
    }
    // Answered: settled outside the call's failure path, as an answer its provider billed must go out.
    try {
      await admission.settle(costOf(embedding, model, tenants), embedding.usage.totalTokens);
    } catch (error) {
      onSettleFailure?.(error);
    }
    return embedding;
  };
}

/** What the backend says the call cost, else its usage (only inputs sent to a provider) at the price of the model that answered. */
function costOf(embedding: ServiceEmbedding, sentTo: string, tenants: ServiceTenants): number {
  if (embedding.costUsd !== undefined) return embedding.costUsd;
  const usage = { promptTokens: embedding.usage.promptTokens, completionTokens: 0, totalTokens: embedding.usage.totalTokens };
  return tenants.prices.cost(tenants.prices.pricedModel(embedding.model, sentTo), usage);
}
