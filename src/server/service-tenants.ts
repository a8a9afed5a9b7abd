import type { PriceBook } from '../llm/pricing.js';
import type { ChatRequest, TokenUsage } from '../llm/types.js';
import type { TenantServices } from '../tenants/create-tenant-services.js';
import { rateLimitStateHeaders, type TenantRateLimitState } from '../tenants/rate-limit-state.js';
import type { Admission, TenantAdmission, TenantCaller } from '../tenants/tenant-admission.js';
import type { Exchange } from './exchange.js';
import { tenantResponses } from './responses/tenant-responses.js';
import type { ServerContext } from './server-context.js';
import type { ServiceBackend } from './service-backend.js';
import { tenantEmbeddings } from './tenant-embeddings.js';

/** What `groundwork serve` needs to accept virtual keys: who a key is, and whether a call may go. */
export interface ServiceTenants {
  /** The caller a presented key belongs to; undefined when no virtual key matches. */
  resolve(plainKey: string): Promise<TenantCaller | undefined>;
  readonly admission: Pick<TenantAdmission, 'admit' | 'checkStatus'>;
  readonly prices: Pick<PriceBook, 'cost' | 'pricedModel'>;
}

/** What `serve` needs of the tenant services: their key directory, admission and prices. */
export function serviceTenants(tenants: Pick<TenantServices, 'directory' | 'admission' | 'prices'>): ServiceTenants {
  return { resolve: (key) => tenants.directory.resolve(key), admission: tenants.admission, prices: tenants.prices };
}

/**
 * The backend as one virtual key sees it: each call is admitted first (its worst case reserved
 * on the key's and team's budgets, its rates and concurrency taken), sent with the output
 * maximum the admission granted, attributed to the key in the ledger, and settled when it ends:
 * to the real cost on success, to nothing when it failed before an answer began, and to the
 * whole reservation when a stream broke off mid-answer (what the provider billed is unknown).
 */
export function tenantBackend(
  backend: ServiceBackend,
  tenants: ServiceTenants,
  caller: TenantCaller,
  /** Told the key's per-minute limits as its buckets answered (for the `x-ratelimit-*` headers). */
  onRateLimit?: (state: TenantRateLimitState) => void,
): ServiceBackend {
  const attribution = { keyId: caller.key.id, teamId: caller.team?.id ?? null };
  const cost = (model: string, usage: TokenUsage) => tenants.prices.cost(model, usage);
  let reported = false;
  const report = (state: TenantRateLimitState) => {
    reported = true;
    onRateLimit?.(state);
  };
  const responses =
    backend.responses?.mode === 'forwarded'
      ? tenantResponses(backend.responses, tenants, caller, report, withoutOwnLimits)
      : backend.responses;
  // Embeddings are admitted, attributed and settled the same way.
  const embed = tenantEmbeddings(backend, tenants, caller, report);
  return {
    ...backend,
    ...(responses === undefined ? {} : { responses }),
    ...(embed === undefined ? {} : { embed }),
    async complete(request, options) {
      const admission = await tenants.admission.admit(caller, request, options.signal, report);
      try {
        const answer = await backend.complete(bounded(request, admission), { ...options, attribution });
        if (reported) answer.completion = { ...answer.completion, rateLimitHeaders: withoutOwnLimits(answer.completion.rateLimitHeaders) };
        const spent = answer.cached ? 0 : cost(answer.completion.model, answer.completion.usage);
        await admission.settle(spent, answer.cached ? 0 : answer.completion.usage.totalTokens);
        return answer;
      } catch (error) {
        await admission.settle(0, 0);
        throw error;
      }
    },
    async *stream(request, options) {
      const admission = await tenants.admission.admit(caller, request, options.signal, report);
      let started = false;
      let settled = false;
      try {
        for await (let event of backend.stream(bounded(request, admission), { ...options, attribution })) {
          started = true;
          if (event.type === 'start' && reported) event = { ...event, rateLimitHeaders: withoutOwnLimits(event.rateLimitHeaders) };
          if (event.type === 'done') {
            settled = true;
            await admission.settle(cost(event.completion.model, event.completion.usage), event.completion.usage.totalTokens);
          }
          yield event;
        }
      } finally {
        if (!settled) await settleCut(admission, started);
      }
    },
  };
}

/** The request with the output maximum the admission reserved for, so the reservation bounds its cost. */
function bounded(request: ChatRequest, admission: Admission): ChatRequest {
  return request.maxTokens === admission.maxTokens ? request : { ...request, maxTokens: admission.maxTokens };
}

function settleCut(admission: Admission, started: boolean): Promise<void> {
  return started ? admission.settle(admission.reservedUsd, 0) : admission.settle(0, 0);
}

/** The provider's rate-limit headers less those the key's own limits answer (`x-ratelimit-*-requests|tokens`). */
function withoutOwnLimits(headers: Record<string, string> | undefined): Record<string, string> {
  if (headers === undefined) return {};
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !OWN_LIMIT_HEADER.test(name.toLowerCase())));
}

const OWN_LIMIT_HEADER = /^x-ratelimit-(limit|remaining|reset)-(requests|tokens)$/;

/**
 * The route's context with the backend as the request's virtual key sees it (unchanged for a
 * static key). The key's own `x-ratelimit-limit|remaining|reset-requests|tokens` headers are set
 * on the answer as soon as its buckets answered, so a 429 carries them too, and a JSON answer or
 * a stream carries them in place of the provider's.
 */
export function forCaller(exchange: Exchange, context: ServerContext): ServerContext {
  if (exchange.caller === undefined || context.tenants === undefined) return context;
  const onRateLimit = (state: TenantRateLimitState) => {
    if (exchange.response.headersSent) return;
    for (const [name, value] of Object.entries(rateLimitStateHeaders(state))) exchange.response.setHeader(name, value);
  };
  return { ...context, backend: tenantBackend(context.backend, context.tenants, exchange.caller, onRateLimit) };
}
