import type { ServerCacheScope } from '../config/variables.js';
import { errorCode } from '../db/driver-errors.js';
import type { PriceBook } from '../llm/pricing.js';
import type { ChatCompletion, ChatRequest } from '../llm/types.js';
import type { TenantServices } from '../tenants/create-tenant-services.js';
import { rateLimitStateHeaders, type TenantRateLimitState } from '../tenants/rate-limit-state.js';
import type { Admission, TenantAdmission, TenantCaller } from '../tenants/tenant-admission.js';
import type { Exchange } from './exchange.js';
import { tenantResponses } from './responses/tenant-responses.js';
import type { ServerContext } from './server-context.js';
import type { ServiceBackend, ServiceCompletion } from './service-backend.js';
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
 * to the real cost on success (the cost the usage ledger records), to nothing for an answer from
 * the response cache or a call that failed before an answer began, and to the whole reservation
 * when a stream broke off mid-answer (what the provider billed is unknown).
 */
export function tenantBackend(
  backend: ServiceBackend,
  tenants: ServiceTenants,
  caller: TenantCaller,
  /** Told the key's per-minute limits as its buckets answered (for the `x-ratelimit-*` headers). */
  onRateLimit?: (state: TenantRateLimitState) => void,
  /**
   * Told when settling an answered call failed (an admission whose store failed and did not keep
   * the settlement itself): the answer still goes out, as its provider billed it.
   */
  onSettleFailure?: (error: unknown) => void,
  /** Who shares the key's cache entries (`SERVER_CACHE_SCOPE`). @default 'team' */
  cacheScope: ServerCacheScope = 'team',
): ServiceBackend {
  const attribution = { keyId: caller.key.id, teamId: caller.team?.id ?? null };
  const scope = cacheScopeOf(caller, cacheScope);
  const scoped = scope === undefined ? {} : { cacheScope: scope };
  /**
   * What an answer cost: as the backend's ledger records it, else priced as the ledger prices it:
   * by the model the provider reports when that has a price, else by the model the call was sent
   * with (an Azure deployment, or an alias in `LLM_PRICES`, reports a model with no price).
   */
  const cost = (completion: ChatCompletion, costUsd: number | undefined, request: ChatRequest) =>
    costUsd ?? tenants.prices.cost(tenants.prices.pricedModel(completion.model, request.model), completion.usage);
  /** Settles an answered call (nothing for a cache hit); a failure is reported, never thrown at the answer. */
  const settleAnswered = async (
    admission: Admission,
    cached: boolean,
    completion: ChatCompletion,
    costUsd: number | undefined,
    request: ChatRequest,
  ) => {
    try {
      if (cached) await admission.settle(0, 0);
      else await admission.settle(cost(completion, costUsd, request), completion.usage.totalTokens);
    } catch (error) {
      onSettleFailure?.(error);
    }
  };
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
  const embed = tenantEmbeddings(backend, tenants, caller, report, onSettleFailure, scope);
  return {
    ...backend,
    ...(responses === undefined ? {} : { responses }),
    ...(embed === undefined ? {} : { embed }),
    async complete(request, options) {
      const admission = await tenants.admission.admit(caller, request, options.signal, report);
      let answer: ServiceCompletion;
      try {
        answer = await backend.complete(bounded(request, admission), { ...options, attribution, ...scoped });
      } catch (error) {
        await admission.settle(0, 0);
        throw error;
      }
      if (reported) answer.completion = { ...answer.completion, rateLimitHeaders: withoutOwnLimits(answer.completion.rateLimitHeaders) };
      // Answered: settled outside the call's failure path, as an answer its provider billed must go out.
      await settleAnswered(admission, answer.cached, answer.completion, answer.costUsd, request);
      return answer;
    },
    async *stream(request, options) {
      const admission = await tenants.admission.admit(caller, request, options.signal, report);
      let started = false;
      // A replay of the response cache: no provider was called, so nothing is charged, even when it is cut.
      let cached = false;
      let settled = false;
      try {
        for await (let event of backend.stream(bounded(request, admission), { ...options, attribution, ...scoped })) {
          started = true;
          if (event.type === 'start') {
            cached = event.cached;
            if (reported) event = { ...event, rateLimitHeaders: withoutOwnLimits(event.rateLimitHeaders) };
          }
          if (event.type === 'done') {
            settled = true;
            await settleAnswered(admission, cached, event.completion, event.costUsd, request);
          }
          yield event;
        }
      } finally {
        if (!settled) await settleCut(admission, started && !cached);
      }
    },
  };
}

/**
 * The scope of a key's cache entries: its team's (a key without a team: its own), its own, or
 * none (shared with every caller of the instance).
 */
export function cacheScopeOf(caller: TenantCaller, scope: ServerCacheScope): string | undefined {
  if (scope === 'shared') return undefined;
  if (scope === 'team' && caller.team !== undefined) return `team:${caller.team.id}`;
  return `key:${caller.key.id}`;
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
  const onSettleFailure = (error: unknown) => {
    context.metrics.storeFailures.inc({ component: 'tenant_budget' });
    context.logger.error(
      { requestId: exchange.requestId, code: errorCode(error) ?? (error instanceof Error ? error.name : typeof error) },
      "Settling an answered call on the key's budget failed; the answer was sent.",
    );
  };
  return {
    ...context,
    backend: tenantBackend(context.backend, context.tenants, exchange.caller, onRateLimit, onSettleFailure, context.config.cacheScope),
  };
}
