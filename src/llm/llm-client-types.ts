import type { CacheOption } from '../cache/resolve-cache-mode.js';
import type { LlmProviderName } from '../config/variables.js';
import type { AttemptRecord } from './call-pipeline.js';
import type { EmbedOptions, VectorFormat } from './embeddings/embed-options.js';
import type { EmbedResult } from './embeddings/embed-result.js';
import type { EmbeddingInput } from './embeddings/embedding-request.js';
import type { Prompt, PromptContext } from './prompt.js';
import type { RespondOptions } from './responses/respond-options.js';
import type { ResponseObject, ResponsesBody, ResponsesResult } from './responses/responses-types.js';
import type {
  ListResponseInputItemsOptions,
  RetrieveResponseOptions,
  StoredResponseOptions,
} from './responses/retrieve-response-options.js';
import type { DeletedResponse, ResponseItemList } from './responses/stored-response-operation.js';
import type { ToolSet } from './tools/tool.js';
import type { TurnGate } from './turn-gate.js';
import type {
  ChatChoice,
  ChatRequest,
  FinishReason,
  LlmProvider,
  LogprobsDelta,
  ReasoningDelta,
  RefusalDelta,
  TextDelta,
  TokenUsage,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
} from './types.js';
import type { UsageAttribution, UsageRecord } from './usage-record.js';

/** Tokens of one call and what they cost. A cache hit spent nothing: zero tokens, zero cost. */
export interface LlmUsage extends TokenUsage {
  /** USD, from the price table (0 for unpriced models and cache hits). */
  costUsd: number;
}

/** How a call went. */
export interface LlmResponseMetadata {
  /** The provider and model that answered (a fallback's, when the primary failed). */
  provider: LlmProviderName;
  model: string;
  /** The deployment of a model group that answered, when the call asked for a group (see Routing). */
  deployment?: string;
  promptName: string | undefined;
  promptVersion: string | undefined;
  requestId: string | undefined;
  /** Every attempt, retries and fallbacks included (empty for a cache hit). */
  attempts: AttemptRecord[];
  /** Wall time of the whole call, in ms. */
  latencyMs: number;
  finishReason: FinishReason;
  /** Whether the answer came from the response cache. */
  cached: boolean;
  /** The provider's id of the answer (`chatcmpl-…`, `msg_…`), where it gave one. */
  responseId?: string;
  /** When the provider made the answer, in Unix seconds. */
  created?: number;
  systemFingerprint?: string;
  /** The service tier that served the request. */
  serviceTier?: string;
  /** The provider's rate-limit headers (`x-ratelimit-*`), as it sent them. */
  rateLimitHeaders?: Record<string, string>;
  /** Model turns the call took: 1, or more when a tool loop ran. */
  steps: number;
}

/**
 * The answer to one call. `data` is the parsed, validated object when the prompt has a schema.
 * `content`, `toolCalls` and `refusal` are the first choice's; `choices` holds every choice.
 * A refusal is an answer: `refusal` holds the model's words and `finishReason` is `content_filter`.
 */
export interface LlmResponse<T = undefined> {
  content: string;
  data: T;
  /** Tool calls the model asked for and no tool loop ran (a request with `tools` but no `execute`). */
  toolCalls?: ToolCall[];
  /** The model's refusal, in its own words. */
  refusal?: string;
  choices: ChatChoice[];
  metadata: LlmResponseMetadata;
  usage: LlmUsage;
}

/**
 * The first event of a stream: the call is under way. Who answers, after how many attempts
 * (retries and fallbacks before the first chunk), whether from the cache, the provider's
 * rate-limit headers and the answer's id — what an HTTP service must know before it sends its
 * status line and its first chunk.
 */
export interface LlmStreamStart {
  type: 'start';
  provider: LlmProviderName;
  model: string;
  attempts: number;
  cached: boolean;
  /** The deployment of a model group that answered, when the call asked for a group. */
  deployment?: string;
  rateLimitHeaders?: Record<string, string>;
  /**
   * The provider's id of the answer (`metadata.responseId` at the end), when its stream named the
   * answer before any content (OpenAI, Azure, Anthropic, Gemini; Bedrock names none); a cached
   * answer's own id when it is replayed. In a tool loop, the first model turn's.
   */
  id?: string;
  /** When the provider made that answer, in Unix seconds (`metadata.created`), when it said so before any content. */
  created?: number;
}

/** A tool the tool loop ran, and what it gave back (or how it failed). */
export interface ToolResultEvent {
  type: 'tool-result';
  toolCallId: string;
  name: string;
  /** The tool's return value; undefined when it failed. */
  result?: unknown;
  /** Set when the arguments were invalid or the tool threw; the message went back to the model. */
  error?: string;
}

/**
 * What `streamPrompt` and `stream` yield: one `start`, then text, refusal, reasoning, tool-call and logprob
 * deltas as the provider streams them (for `n` > 1, each with its `choice`; a reasoning model's
 * thinking as it thinks, before its answer), tool results when a tool loop runs, then exactly one
 * `done` with the whole response.
 */
export type LlmStreamEvent<T = undefined> =
  | LlmStreamStart
  | TextDelta
  | RefusalDelta
  | ReasoningDelta
  | ToolCallDelta
  | LogprobsDelta
  | ToolResultEvent
  | { type: 'done'; response: LlmResponse<T> };

/** Per-call options. */
export interface LlmCallOptions {
  /** Send the call to this provider (no fallbacks), instead of the configured primary and its fallbacks. */
  provider?: LlmProviderName;
  /**
   * The model (for Azure: the deployment) instead of the provider's default, or the name of a
   * model group of the routes file (`GROUNDWORK_ROUTES`), which routes the call over its deployments.
   */
  model?: string;
  /**
   * Cancels the call; the call then rejects with the signal's reason. A call sharing a cached
   * answer being computed for identical concurrent calls is released at once, and the shared
   * upstream call goes on for the others: it is aborted only when every one of them has cancelled.
   */
  signal?: AbortSignal;
  /** `'use'` (or `true`) caches even a sampled answer, `'bypass'` (or `false`) skips the cache, `'refresh'` stores a fresh answer: the values of the service's cache header. Default: cache temperature 0 only. */
  cache?: CacheOption;
  temperature?: number;
  maxTokens?: number;
  /** Repair requests after an invalid structured answer. @default LLM_STRUCTURED_OUTPUT_REPAIRS */
  repairs?: number;
  /** Cache namespace. @default LLM_CACHE_NAMESPACE */
  namespace?: string;
  /** Tools for this call, instead of the prompt's. Those with `execute` run in the tool loop. */
  tools?: ToolSet;
  toolChoice?: ToolChoice;
  /** Most model turns the tool loop may take. @default the prompt's, else 5 */
  maxSteps?: number;
  /** The virtual key (and team) the call is billed to: each ledger row of the call names them. */
  attribution?: UsageAttribution;
  /**
   * Takes this call's ledger rows instead of the usage ledger, so that the caller can write them in
   * a transaction of its own (the job runner writes them with the job's completion).
   */
  onUsageRecord?: (record: UsageRecord) => void;
  /**
   * Admits each model turn before it is sent and settles it when it ends: the facade's `tenant`
   * option sets it, so that every turn of a tool loop takes its own share of the key's budget.
   */
  turnGate?: TurnGate;
}

/** A raw chat request for {@link LlmClient.complete}: the model is optional. */
export type LlmCompleteRequest = Omit<ChatRequest, 'model'> & { model?: string };

/**
 * Groundwork's LLM client: every call goes through validation, the response cache, the
 * resilience pipeline, the provider, structured-output validation, and the usage ledger.
 */
export interface LlmClient {
  /** Renders `prompt` with `context` and runs it. */
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions,
  ): Promise<LlmResponse<Output>>;
  /** Runs `prompt` streamed: text deltas, then the whole response. A stream cut short throws. */
  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: LlmCallOptions,
  ): AsyncIterable<LlmStreamEvent<Output>>;
  /** Runs a raw chat request (the OpenAI-compatible endpoint uses this) on the same path. */
  complete(request: LlmCompleteRequest, options?: LlmCallOptions): Promise<LlmResponse<undefined>>;
  /** Runs a raw chat request streamed. */
  stream(request: LlmCompleteRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent<undefined>>;
  /**
   * Embeds one input or many: one vector per input, in input order, through the per-input cache,
   * batching, limits, retry, breaker, embedding fallbacks and the ledger (`operation = embeddings`).
   * A model group's name as `model` routes it over the group's deployments that have an embeddings
   * API; a group with none fails with `EmbeddingsUnsupportedError` before anything is sent.
   */
  embed<F extends VectorFormat = 'float32'>(
    input: EmbeddingInput | readonly EmbeddingInput[],
    options?: EmbedOptions<F>,
  ): Promise<EmbedResult<F>>;
  /**
   * One Responses API call (OpenAI's `CreateResponse` body; `stream: true` for its events). With
   * OpenAI or Azure OpenAI as the primary provider the body is forwarded whole (built-in tools and
   * new fields keep working) through retry, breaker, limits and the ledger (`operation =
   * responses`); with any other it is translated to the provider's chat API and back, and a field
   * that cannot be translated fails the call with `ResponsesUnsupportedError` before anything is sent;
   * a translated answer's field a `Response` has no place for (`audio`…) is left out, logged as a
   * warning and counted in `groundwork_responses_dropped_answer_fields_total`.
   * A forwarded call for a model group goes over the group's OpenAI and Azure deployments; a group
   * with none fails with `ResponsesGroupUnsupportedError` before anything is sent.
   */
  respond(body: ResponsesBody, options?: RespondOptions): Promise<ResponsesResult>;
  /**
   * A response an upstream keeps (OpenAI, Azure OpenAI), by id; `query` as the caller sent it
   * (`include[]=…`). Asked first of the upstream that made it, when this client made it recently,
   * then of each upstream a forwarded call could have gone to (the primary provider, the fallbacks
   * with the Responses API, the OpenAI and Azure deployments of the model groups), each once, until
   * one has it; with `models`, only of those a call for one of these models could reach. The whole
   * lookup takes at most `resilience.timeoutMs`; each upstream but the last (and the one that made
   * the response) is given what is left divided by the upstreams still to ask, so one that hangs
   * leaves time for the others; once it is up, no further upstream is asked. A failure other than
   * 404 (400, 401, 422, 5xx, its time used up, an Azure token that could not be fetched, a
   * configuration it cannot be set up from) of an upstream does not stop the search, unless that
   * upstream made the response: when none has it, the first such failure is thrown as that
   * upstream's error, its `notFoundAt` naming the upstreams that answered 404. A 400 or 422 is no
   * exception, with or without `query`: upstreams accept different `include[]` values, so a query
   * every upstream refuses comes back as the first refusal. An id every upstream answered 404 for fails with
   * `ResponseNotFoundError`, which names them. An upstream whose endpoint or key is not configured
   * counts as a failure of that upstream. A cancellation (`signal`) and the client's close come back
   * as they are, at once. Any caller that may reach an
   * upstream can read a response stored there if it knows the id, as within one project of OpenAI's own API.
   */
  retrieveResponse(id: string, options?: RetrieveResponseOptions): Promise<ResponseObject>;
  /**
   * Cancels a background response (one made with `background: true`) that is queued or in
   * progress, at the upstream that holds it, found as {@link LlmClient.retrieveResponse} finds it
   * (the same order, one `resilience.timeoutMs` shared, the same failure rules, `models`): the
   * response as it then stands, `cancelled`. The upstream's refusal comes back as its error (OpenAI
   * answers 400 for a response not made in the background); an id no upstream has fails with
   * `ResponseNotFoundError`. The cancel is sent once, only to the upstream that holds the response:
   * the remembered one, else the first found holding it by a retrieval (`GET /responses/{id}`) within
   * the same time, which is then sent the cancel with the time left; its answer or refusal is the
   * answer. When that upstream's answer once the cancel was sent leaves it unknown whether it was
   * applied (no answer: a timeout, a lost connection; an HTTP 5xx other than 503; a malformed answer), the
   * `ProviderError` is not retryable, has `outcomeUnknown: true` and the code
   * `provider_outcome_unknown`; retrieve the response to see. A failure before it was sent (DNS, a
   * refused connection, the time up) and a 503 or 429 stay retryable.
   */
  cancelResponse(id: string, options?: StoredResponseOptions): Promise<ResponseObject>;
  /**
   * Deletes a stored response at the upstream that holds it, found as
   * {@link LlmClient.retrieveResponse} finds it; the upstream's answer (`{ id, object: 'response',
   * deleted: true }`). This client then forgets where the id was made. An id no upstream has fails
   * with `ResponseNotFoundError`. The delete is sent once, only to the upstream that holds the
   * response, found as for {@link LlmClient.cancelResponse}; when its outcome is unknown, as for a
   * cancel, the `ProviderError` is not retryable, has `outcomeUnknown: true` and the code
   * `provider_outcome_unknown` (sent again, a delete that succeeded is a `ResponseNotFoundError`).
   */
  deleteResponse(id: string, options?: StoredResponseOptions): Promise<DeletedResponse>;
  /**
   * A page of the input items a stored response was made from (OpenAI's `ResponseItemList`), at the
   * upstream that holds it, found as {@link LlmClient.retrieveResponse} finds it. `options.query`
   * picks the page (`after`, `before`, `include` an array of field names, `limit` 1 to 100,
   * `order`), checked before anything is sent (a `TypeError` or `RangeError` naming the field, or
   * the fields it does not know), or is a query string passed on as written.
   */
  listResponseInputItems(id: string, options?: ListResponseInputItemsOptions): Promise<ResponseItemList>;
  /** The provider adapter for `name` (default: the primary). Throws when it is not configured. */
  getProvider(name?: LlmProviderName): LlmProvider;
  /** Proves the provider answers with its credentials (its models endpoint). */
  ping(name?: LlmProviderName, signal?: AbortSignal): Promise<{ provider: LlmProviderName; latencyMs: number }>;
  /**
   * Writes buffered usage-ledger rows now, after waiting for the rows of calls whose caller has
   * gone but whose upstream call has not ended yet (an abandoned stream being cut, a cancelled
   * call whose shared answer others still wait for), which are written once it ends.
   */
  flush(): Promise<void>;
  /** Waits for the calls in flight and their rows (cutting them past the deadline), flushes the usage ledger and releases providers. Idempotent. */
  close(): Promise<void>;
}
