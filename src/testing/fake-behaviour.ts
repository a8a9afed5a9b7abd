/** Which wire format a request to the fake server used, read from its path. */
export type FakeWire = 'openai' | 'azure' | 'anthropic' | 'gemini' | 'bedrock';

/** Token counts a scripted answer reports; omitted fields are estimated from the text (4 characters a token). */
export interface FakeUsage {
  promptTokens?: number;
  completionTokens?: number;
  /** Reported as OpenAI's `prompt_tokens_details.cached_tokens` or Anthropic's `cache_read_input_tokens`. */
  cachedPromptTokens?: number;
  /** Reported as OpenAI's `completion_tokens_details.reasoning_tokens`. */
  reasoningTokens?: number;
  /** Reported as Anthropic's `cache_creation_input_tokens` (part of the prompt tokens). */
  cacheWritePromptTokens?: number;
}

/** Fields every behaviour accepts. */
interface BehaviourBase {
  /** Wait this long before doing anything, in ms. */
  delayMs?: number;
}

/** A tool call a scripted answer makes. */
export interface FakeToolCall {
  /** The function's name. */
  name: string;
  /** The arguments: JSON text as the model would write it, or a value serialised to it. */
  arguments: string | Record<string, unknown>;
  /** The call's id. @default generated: `call_…` on OpenAI's wire, `toolu_…` on Anthropic's */
  id?: string;
}

/** Why a scripted choice ends. @default 'tool_calls' when it calls tools, else 'stop' */
export type FakeFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

/** One choice of a scripted answer (for `n` > 1 on OpenAI's wire). */
export interface FakeChoice {
  /** The text. @default `json` serialised, else 'ok' (none when the choice only calls tools or refuses) */
  content?: string;
  json?: unknown;
  toolCalls?: FakeToolCall[];
  /**
   * A refusal, in the model's words. OpenAI's wire: `message.refusal` (streamed as refusal deltas),
   * finish `stop`; Anthropic's: the text with `stop_reason: refusal`.
   */
  refusal?: string;
  /**
   * The model's thinking, before its answer. Gemini's wire: `thought` parts, sent only when the
   * request asks for them (`thinkingConfig.includeThoughts`), as Gemini does; OpenAI's wire:
   * `reasoning_content`, in the message and in deltas before the text, as vLLM and DeepSeek send it;
   * Bedrock's: a `reasoningContent` block before the text (deltas of its text, streamed), as
   * DeepSeek-R1 answers on Converse.
   */
  reasoning?: string;
  /**
   * Images the model makes, after its text, each as base64 bytes and their media type. Gemini's
   * wire: `inlineData` parts, as Gemini's image models answer; other wires ignore it.
   */
  images?: readonly FakeImage[];
  /**
   * Message fields the model adds beyond text, tool calls and refusal, as OpenAI and compatible
   * servers send them (a search model's `annotations`, an audio answer's `audio`…). OpenAI's wire:
   * in the message, over its default `annotations: []`, and streamed in one delta after the text;
   * other wires ignore it.
   */
  messageFields?: Readonly<Record<string, unknown>>;
  /**
   * Gemini's wire: the `thoughtSignature` of the text part, as Gemini 3 signs its answer's first
   * part after its thoughts; streamed, it comes on a last, empty, text part, as Gemini streams it.
   * Other wires ignore it.
   */
  textSignature?: string;
  finishReason?: FakeFinishReason;
}

/** An image a scripted answer makes. */
export interface FakeImage {
  /** The media type, e.g. `image/png`. */
  mediaType: string;
  /** The bytes, base64. */
  data: string;
  /**
   * Gemini's wire: the `inlineData` part's `thoughtSignature`, as Gemini 3's image models sign each
   * image they make (and want it back on the same part when the conversation goes on); other wires ignore it.
   */
  signature?: string;
}

/**
 * Answer normally. `content` is the text; `json` is serialised as the text (or, on Anthropic with a
 * forced tool, sent as the tool's input). Streaming requests get the text in `chunks` deltas, and
 * each tool call's arguments in `chunks` pieces after a first piece with its id and name, as OpenAI
 * streams them (Anthropic: `input_json_delta`s).
 *
 * @example
 * ```ts
 * fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] });
 * fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' });
 * fake.enqueue({ type: 'answer', choices: [{ content: 'one' }, { content: 'two' }], logprobs: true });
 * ```
 */
export interface FakeAnswer extends BehaviourBase, FakeChoice {
  type: 'answer';
  /**
   * Every choice, for `n` > 1 (OpenAI's wire; Anthropic's answers with the first). Without it the
   * answer's own fields make one choice, repeated `n` times when the request asks for `n`.
   */
  choices?: FakeChoice[];
  /**
   * Add made-up log probabilities, one per word-like token, with as many alternatives as the
   * request's `top_logprobs` asks (OpenAI's wire). @default whatever the request's `logprobs` asks
   */
  logprobs?: boolean;
  /**
   * The model's extended thinking, on Anthropic's wire when the request turns thinking on: a
   * `thinking` block, signed by the fake, before the answer. The fake refuses (400) a request with
   * thinking on whose last assistant turn calls a tool without starting with its signed thinking,
   * as Anthropic does. @default 'Let me think this through.'
   */
  thinking?: string;
  /** Sent as `system_fingerprint`. */
  systemFingerprint?: string;
  /**
   * Embeddings (OpenAI's wire): answer vectors of this length whatever the request asks, as a
   * model that ignores `dimensions` does. @default the request's `dimensions`, else the model's known length, else 1536
   */
  dimensions?: number;
  /** The model the answer reports, as Azure reports the model behind a deployment. @default the model the request names */
  model?: string;
  /**
   * When the answer says it was made, in Unix seconds: OpenAI's `created`, the Responses API's
   * `created_at`; a fixed past time tells it apart from a clock read. @default the time the fake answers
   */
  created?: number;
  /** Sent as `service_tier` (OpenAI) or `usage.service_tier` (Anthropic). */
  serviceTier?: string;
  /** Response headers such as `x-ratelimit-remaining-requests`. */
  rateLimitHeaders?: Record<string, string>;
  usage?: FakeUsage;
  /** Send an embeddings answer without `usage` (OpenAI's wire), as some OpenAI-compatible servers do. @default false */
  omitUsage?: boolean;
  /** Number of deltas a streamed answer is split into. @default 3 */
  chunks?: number;
  /** Response headers to add, e.g. a request id. */
  headers?: Record<string, string>;
  /**
   * Open a stream as Azure OpenAI may: with a chunk holding only the prompt's content-filter
   * results, whose `id`, `model` and `object` are empty, `created` 0 and `choices` empty
   * (OpenAI's wire). @default false
   */
  promptFilterChunk?: boolean;
  /**
   * Block the prompt instead of answering, for this reason (Gemini: no candidates and
   * `promptFeedback.blockReason`, e.g. `SAFETY`; Bedrock: a guardrail's `guardrail_intervened`).
   * Other wires ignore it.
   */
  promptBlocked?: string;
}

/** Fail with an HTTP status and an error body in the provider's own format. */
export interface FakeError extends BehaviourBase {
  type: 'error';
  status: number;
  /** The provider's error code, e.g. `insufficient_quota` or `content_filter`. */
  code?: string;
  message?: string;
  /** Sent as `Retry-After` (seconds, or an HTTP date). */
  retryAfter?: number | string;
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number;
}

/** Destroy the connection without answering. */
export interface FakeReset extends BehaviourBase {
  type: 'reset';
}

/** Never answer (streams: send `afterChunks` deltas, then fall silent). Ends when the client gives up or the server closes. */
export interface FakeHang extends BehaviourBase {
  type: 'hang';
  afterChunks?: number;
}

/** Answer 200 with a body that is not valid JSON (streams: an event whose data is not JSON). */
export interface FakeMalformed extends BehaviourBase {
  type: 'malformed';
}

/**
 * Streams: send `afterChunks` deltas, then end the response (`destroy: true`: destroy the socket)
 * before the answer is finished. A request that asked for no stream gets the first half of its
 * JSON answer, then the same end.
 */
export interface FakeCutStream extends BehaviourBase {
  type: 'cut-stream';
  /** @default 1 */
  afterChunks?: number;
  /** Destroy the socket instead of ending the response cleanly. @default false */
  destroy?: boolean;
}

/** One scripted reaction of the fake server to one request. */
export type FakeBehaviour = FakeAnswer | FakeError | FakeReset | FakeHang | FakeMalformed | FakeCutStream;

/** One request the fake server received. */
export interface RecordedRequest {
  wire: FakeWire | 'models';
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string's parameters. Gemini's `key` is `[redacted]` unless the server keeps credentials (`keepAuthHeaders`). */
  query: Record<string, string>;
  /** Lower-case header names. Credentials are `[redacted]` unless the server keeps them (`keepAuthHeaders`). */
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** Whether the request asked for a stream. */
  stream: boolean;
  /** For Azure: the deployment from the path. */
  deployment?: string;
  /** For Gemini and Bedrock: the model from the path. */
  model?: string;
  /**
   * The id the fake gave its answer to this chat or Responses request (`chatcmpl-fake-…`,
   * `msg_fake_…`, `resp_fake_…`), in every chunk when it streams; set once the fake starts to send
   * the answer (an answer, or a stream it cuts, leaves hanging or breaks), before its first byte.
   * Absent when the fake refuses the request, fails it or resets it, for other requests, and on
   * Bedrock's wire, which has no answer id.
   */
  answerId?: string;
  /**
   * When the fake said it made that answer, in Unix seconds (OpenAI's and Azure's `created`, the
   * Responses API's `created_at`), set with `answerId`; absent on the other wires, which send no such time.
   */
  answerCreated?: number;
}

/**
 * Decides how to answer a request from what it holds; used when the queue is empty. See
 * `toolResultsOf` to answer a tool-result turn differently from the first one.
 */
export type FakeHandler = (request: RecordedRequest) => FakeBehaviour | Promise<FakeBehaviour>;
