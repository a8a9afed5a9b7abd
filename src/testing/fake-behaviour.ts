/** Which wire format a request to the fake server used, read from its path. */
export type FakeWire = 'openai' | 'azure' | 'anthropic';

/** Token counts a scripted answer reports; omitted fields are estimated from the text (4 characters a token). */
export interface FakeUsage {
  promptTokens?: number;
  completionTokens?: number;
  /** Reported as OpenAI's `prompt_tokens_details.cached_tokens` or Anthropic's `cache_read_input_tokens`. */
  cachedPromptTokens?: number;
  /** Reported as OpenAI's `completion_tokens_details.reasoning_tokens`. */
  reasoningTokens?: number;
}

/** Fields every behaviour accepts. */
interface BehaviourBase {
  /** Wait this long before doing anything, in ms. */
  delayMs?: number;
}

/**
 * Answer normally. `content` is the text; `json` is serialised as the text (or, on Anthropic with a
 * forced tool, sent as the tool's input). Streaming requests get the text in `chunks` deltas.
 */
export interface FakeAnswer extends BehaviourBase {
  type: 'answer';
  content?: string;
  json?: unknown;
  /** @default 'stop' */
  finishReason?: 'stop' | 'length' | 'content_filter';
  usage?: FakeUsage;
  /** Number of deltas a streamed answer is split into. @default 3 */
  chunks?: number;
  /** Response headers to add, e.g. a request id. */
  headers?: Record<string, string>;
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

/** Streams: send `afterChunks` deltas, then end the response (`destroy: true`: destroy the socket) before the answer is finished. */
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
  query: Record<string, string>;
  /** Lower-case header names. Credentials are `[redacted]` unless the server keeps them (`keepAuthHeaders`). */
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** Whether the request asked for a stream. */
  stream: boolean;
  /** For Azure: the deployment from the path. */
  deployment?: string;
}

/** Decides how to answer a request; used when the queue is empty. */
export type FakeHandler = (request: RecordedRequest) => FakeBehaviour | Promise<FakeBehaviour>;
