import type { CacheOption } from '../cache/resolve-cache-mode.js';
import type { EmbeddingInput } from '../llm/embeddings/embedding-request.js';
import type { EmbeddingUsage } from '../llm/embeddings/embedding-response.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent } from '../llm/types.js';
import type { UsageAttribution } from '../llm/usage-record.js';
import type { HealthOptions, HealthReport } from '../observability/health.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { ServiceResponses } from './responses/service-responses.js';

/** One readiness condition: configuration valid, database reachable, migrations applied. */
export interface ReadinessCheck {
  /** e.g. `config`, `database`, `migrations`. */
  name: string;
  ok: boolean;
  /** A short, secret-free explanation, above all when not ok. */
  detail?: string;
}

/** Whether the process should receive traffic, and why (or why not). */
export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
}

/** How one completion is made. */
export interface CompleteOptions {
  /** Aborts when the HTTP caller disconnects or the server shuts down. */
  signal: AbortSignal;
  /** The caller's cache choice (header `X-Groundwork-Cache`); absent: the default policy. */
  cache?: CacheOption;
  /**
   * The HTTP request id (`x-request-id`), which the access log and failure logs carry. Not written to
   * the usage ledger, whose `request_id` is the provider's own id for the answer.
   */
  requestId?: string;
  /** The virtual key and team the call is billed to, for the usage ledger. */
  attribution?: UsageAttribution;
  /**
   * Whose cache entries the call reads and writes, within the instance's namespace (`team:<id>`,
   * `key:<id>`; see `SERVER_CACHE_SCOPE`); absent: the instance's own.
   */
  cacheScope?: string;
}

/** How one streamed completion is made. */
export interface StreamOptions {
  /** Aborts when the HTTP caller disconnects or the server shuts down. */
  signal: AbortSignal;
  /** The caller's cache choice; absent: the default policy. */
  cache?: CacheOption;
  /**
   * The HTTP request id (`x-request-id`), which the access log and failure logs carry. Not written to
   * the usage ledger, whose `request_id` is the provider's own id for the answer.
   */
  requestId?: string;
  /** The virtual key and team the call is billed to, for the usage ledger. */
  attribution?: UsageAttribution;
  /**
   * Whose cache entries the call reads and writes, within the instance's namespace (`team:<id>`,
   * `key:<id>`; see `SERVER_CACHE_SCOPE`); absent: the instance's own.
   */
  cacheScope?: string;
}

/** A completion and how it was produced. */
export interface ServiceCompletion {
  completion: ChatCompletion;
  /** True when the answer came from the response cache (no provider call was made). */
  cached: boolean;
  /** Requests sent to providers for this answer, retries and fallbacks included (0 for a cache hit). */
  attempts: number;
  /**
   * What the answer cost in USD, as the usage ledger records it (0 for a cache hit); absent when
   * the backend does not price its calls.
   */
  costUsd?: number;
}

/** An embeddings request as the service hands it on. */
export interface ServiceEmbeddingRequest {
  inputs: EmbeddingInput[];
  /** The model the caller named; undefined or the configured one: the configured model and its fallbacks. */
  model?: string;
  dimensions?: number;
  user?: string;
}

/** Vectors and how they were produced. */
export interface ServiceEmbedding {
  vectors: Float32Array[];
  model: string;
  usage: EmbeddingUsage;
  /** Inputs answered from the cache. */
  cachedInputs: number;
  /** Requests sent to providers, retries and fallbacks included. */
  attempts: number;
  /**
   * What the providers' answers cost in USD, each priced at the model that answered it (0 when
   * every input came from the cache). Absent: a virtual key is charged `usage` at `model`'s price.
   */
  costUsd?: number;
}

/** The models an embeddings call may be answered by, so that a virtual key's reservation covers each. */
export interface ServiceEmbeddingReach {
  /** The model the call is admitted for: the one it names, or the configured one when it names none. */
  model: string;
  /** The models it falls back to when its own fails; empty when it is pinned to the model it names. */
  fallbackModels: readonly string[];
}

/** One model `GET /v1/models` lists. */
export interface ServiceModel {
  id: string;
  ownedBy: string;
}

/**
 * Everything `groundwork serve` needs from the rest of Groundwork — the one seam between the HTTP
 * shell and the capabilities behind it. {@link createServiceBackend} builds it from the facade;
 * tests hand in a double.
 *
 * Errors thrown by `complete` and `stream` are mapped to HTTP statuses by their `code`
 * (see `error-response.ts`), so they should be Groundwork errors whose messages hold no secret.
 */
/** A stream is under way: what the service's status line and headers need. */
export interface ServiceStreamStart {
  type: 'start';
  /** Provider requests sent before the first chunk, retries and fallbacks included. */
  attempts: number;
  cached: boolean;
  rateLimitHeaders?: Record<string, string>;
  /** The provider's id of the answer, when it named the answer before any content (a cached answer's own, replayed). */
  id?: string;
  /** When the provider made the answer, in Unix seconds, when it said so before any content. */
  created?: number;
}

/** A stream's answer is complete. */
export interface ServiceStreamDone {
  type: 'done';
  completion: ChatCompletion;
  /**
   * What the answer cost in USD, as the usage ledger records it (0 for a cache hit); absent when
   * the backend does not price its calls.
   */
  costUsd?: number;
}

/** What {@link ServiceBackend.stream} yields. */
export type ServiceStreamEvent = Exclude<ChatStreamEvent, { type: 'start' | 'done' }> | ServiceStreamStart | ServiceStreamDone;

export interface ServiceBackend {
  /** Each dependency's status and latency (the facade's `health()`). */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** Whether to receive traffic: configuration valid, database reachable, migrations applied. */
  readiness(): Promise<ReadinessReport>;
  /** The registry `GET /metrics` serves. */
  readonly metrics: GroundworkMetrics;
  /** One completion through the full call path (cache, fallbacks, retry, breaker, limits, ledger). */
  complete(request: ChatRequest, options: CompleteOptions): Promise<ServiceCompletion>;
  /** Embeddings through the same path, with the per-input cache; absent: `POST /v1/embeddings` answers 404. */
  embed?(request: ServiceEmbeddingRequest, options: CompleteOptions): Promise<ServiceEmbedding>;
  /**
   * Where `embed` may send `request`: its model and the fallbacks it may reach, which a virtual
   * key's budget reservation is priced over. Absent: the model the request names, without fallbacks.
   */
  embeddingReach?(request: ServiceEmbeddingRequest): ServiceEmbeddingReach;
  /**
   * One streamed completion through the same path: optionally a `start` (attempts, cache, the
   * provider's rate-limit headers, for the status line), then text, refusal, tool-call and
   * logprob deltas, then one `done` event.
   */
  stream(request: ChatRequest, options: StreamOptions): AsyncIterable<ServiceStreamEvent>;
  /**
   * How many requests a failed call sent to providers, retries and fallbacks included; undefined
   * when unknown. The service tells SDKs not to retry on top of Groundwork's own retries.
   */
  attemptsOf?(error: unknown): number | undefined;
  /** The models callers may name. */
  listModels(): Promise<ServiceModel[]>;
  /** The Responses API: forwarded, or translated over `complete` and `stream`; absent: `/v1/responses` answers 404. */
  responses?: ServiceResponses;
  /** Applies pending migrations; `groundwork serve` calls it at start unless `DB_MIGRATE_ON_START=false`. */
  migrate?(): Promise<void>;
  /** Drains in-flight work, flushes the usage ledger, closes pools. Called once, after the server stopped. */
  close(): Promise<void>;
}
