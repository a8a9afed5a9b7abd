import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { messageText } from '../llm/model/message-text.js';
import type { ChatCompletion, ChatMessage, ChatRequest, ChatStreamEvent } from '../llm/types.js';
import { scrubSecrets } from './redact.js';

/**
 * Spans for LLM calls and database transactions through `@opentelemetry/api`, with the
 * OpenTelemetry GenAI attribute names. When the application registers no SDK (and passes no
 * tracer) a call runs without a span of its own: the API would hand out a non-recording span
 * and a context to carry it, which record nothing. Prompt and answer text go into spans only
 * with `logContent: true` (`LLM_LOG_CONTENT`).
 *
 * @module
 */

/** The instrumentation scope name of Groundwork's spans. */
export const TRACER_NAME = 'groundwork';

/** The GenAI semantic-convention attribute names Groundwork sets. */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestSeed: 'gen_ai.request.seed',
  requestStopSequences: 'gen_ai.request.stop_sequences',
  outputType: 'gen_ai.output.type',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',
} as const;

/** Describes one LLM call for its span. */
export interface LlmSpanOptions {
  /** @default 'chat' */
  operation?: string;
  /** Groundwork's provider name (`openai`, `azure`, `anthropic`, `openai-compatible`). */
  provider: string;
  request: ChatRequest;
  /** The model group (`groundwork.llm.group`) and deployment (`groundwork.llm.deployment`) the attempt was routed to. */
  group?: string | undefined;
  deployment?: string | undefined;
  /** Put the prompt and the answer into the span. @default false */
  logContent?: boolean;
  /** @default the global tracer provider's `groundwork` tracer */
  tracer?: Tracer;
}

/** Describes one database transaction for its span. */
export interface TransactionSpanOptions {
  /** `db.system.name`: `sqlite`, `postgresql`. */
  system: string;
  /** @default the global tracer provider's `groundwork` tracer */
  tracer?: Tracer;
}

/** The `groundwork` tracer of the globally registered provider (the no-op tracer when none is). */
export function groundworkTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** What the API's proxy provider delegates to while no SDK is registered (its no-op provider, one per API copy). */
const NO_SDK = new ProxyTracerProvider().getDelegate();
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The non-recording span a call gets when no tracer would record it, else undefined. It carries
 * the active span's context, as the API's no-op tracer would hand out, so that nothing read from
 * it changes; it is never the active span itself, which a caller could then write to.
 */
function silentSpan(tracer: Tracer | undefined): Span | undefined {
  if (tracer !== undefined) return undefined;
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK) return undefined;
  const active = trace.getActiveSpan();
  return active === undefined ? NO_SPAN : trace.wrapSpanContext(active.spanContext());
}

/** Maps a Groundwork provider name to the semantic conventions' `gen_ai.provider.name`. */
export function genAiProviderName(provider: string): string {
  if (provider === 'azure') return 'azure.ai.openai';
  if (provider === 'openai-compatible') return 'openai';
  return provider;
}

/**
 * Runs one LLM call in a client span named `{operation} {model}`: request attributes at the start;
 * response model, id (the answer's; the HTTP request id as `groundwork.llm.request_id`), finish
 * reasons and token usage when it answers; `error.type` and an error
 * status when it fails (the error is rethrown unchanged).
 */
export function traceLlmCall(options: LlmSpanOptions, call: (span: Span) => Promise<ChatCompletion>): Promise<ChatCompletion> {
  const silent = silentSpan(options.tracer);
  if (silent === undefined) return tracedLlmCall(options, call);
  // A call that throws before its first await fails as a rejected promise, as it does in a span.
  try {
    return call(silent);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function tracedLlmCall(options: LlmSpanOptions, call: (span: Span) => Promise<ChatCompletion>): Promise<ChatCompletion> {
  const span = startLlmSpan(options);
  try {
    const completion = await context.with(trace.setSpan(context.active(), span), () => call(span));
    recordLlmCompletion(span, completion, options.logContent === true);
    return completion;
  } catch (error) {
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs one streamed LLM call in a span that stays open until the stream ends, fails, or its
 * consumer stops early; the final `done` event's answer is recorded like {@link traceLlmCall}'s.
 */
export async function* traceLlmStream(
  options: LlmSpanOptions,
  stream: (span: Span) => AsyncIterable<ChatStreamEvent>,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const silent = silentSpan(options.tracer);
  if (silent !== undefined) {
    yield* stream(silent);
    return;
  }
  const span = startLlmSpan(options);
  try {
    const events = context.with(trace.setSpan(context.active(), span), () => stream(span));
    for await (const event of events) {
      if (event.type === 'done') recordLlmCompletion(span, event.completion, options.logContent === true);
      yield event;
    }
  } catch (error) {
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Runs a transaction in a span; `groundwork.db.transaction.outcome` says `commit` or `rollback`. */
export async function traceTransaction<T>(options: TransactionSpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const tracer = options.tracer ?? groundworkTracer();
  const span = tracer.startSpan('transaction', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': options.system, 'db.operation.name': 'transaction' },
  });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => work(span));
    span.setAttribute('groundwork.db.transaction.outcome', 'commit');
    return result;
  } catch (error) {
    span.setAttribute('groundwork.db.transaction.outcome', 'rollback');
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Sets a finished call's response attributes (and, with `logContent`, the answer text). */
export function recordLlmCompletion(span: Span, completion: ChatCompletion, logContent: boolean): void {
  if (!span.isRecording()) return;
  const attributes: Attributes = {
    [GEN_AI.responseModel]: completion.model,
    // One reason per choice (`n` > 1 asks for several), as the convention has it.
    [GEN_AI.responseFinishReasons]:
      completion.choices.length > 1 ? completion.choices.map((choice) => choice.finishReason) : [completion.finishReason],
    [GEN_AI.usageInputTokens]: completion.usage.promptTokens,
    [GEN_AI.usageOutputTokens]: completion.usage.completionTokens,
  };
  // The answer's id (`chatcmpl-…`, `msg_…`) is the convention's response id; the HTTP request id is not.
  if (completion.id !== undefined) attributes[GEN_AI.responseId] = completion.id;
  if (completion.requestId !== undefined) attributes['groundwork.llm.request_id'] = completion.requestId;
  if (logContent) {
    attributes[GEN_AI.outputMessages] = JSON.stringify([
      { role: 'assistant', parts: [{ type: 'text', content: completion.content }], finish_reason: completion.finishReason },
    ]);
  }
  span.setAttributes(attributes);
}

/** Marks a span failed: `error.type` (the Groundwork error `code`, else the error's name), the status and the exception, scrubbed of secrets. */
export function recordSpanError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const code = (error as { code?: unknown } | null)?.code;
  const type = typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
  const message = scrubSecrets(error instanceof Error ? error.message : String(error));
  span.setAttribute(GEN_AI.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.recordException({ name: type, message });
}

function startLlmSpan(options: LlmSpanOptions): Span {
  const tracer = options.tracer ?? groundworkTracer();
  const operation = options.operation ?? 'chat';
  const span = tracer.startSpan(`${operation} ${options.request.model}`, { kind: SpanKind.CLIENT });
  if (span.isRecording()) span.setAttributes(requestAttributes(operation, options));
  return span;
}

function requestAttributes(operation: string, options: LlmSpanOptions): Attributes {
  const request = options.request;
  const attributes: Attributes = {
    [GEN_AI.operationName]: operation,
    [GEN_AI.providerName]: genAiProviderName(options.provider),
    [GEN_AI.requestModel]: request.model,
    [GEN_AI.outputType]: request.responseFormat === undefined || request.responseFormat.type === 'text' ? 'text' : 'json',
  };
  if (options.group !== undefined) attributes['groundwork.llm.group'] = options.group;
  if (options.deployment !== undefined) attributes['groundwork.llm.deployment'] = options.deployment;
  if (request.temperature !== undefined) attributes[GEN_AI.requestTemperature] = request.temperature;
  if (request.topP !== undefined) attributes[GEN_AI.requestTopP] = request.topP;
  if (request.maxTokens !== undefined) attributes[GEN_AI.requestMaxTokens] = request.maxTokens;
  if (request.seed !== undefined) attributes[GEN_AI.requestSeed] = request.seed;
  if (request.stop !== undefined) attributes[GEN_AI.requestStopSequences] = request.stop;
  if (options.logContent === true) attributes[GEN_AI.inputMessages] = JSON.stringify(request.messages.map(toSemconvMessage));
  return attributes;
}

function toSemconvMessage(message: ChatMessage): { role: string; parts: Array<{ type: 'text'; content: string }> } {
  return { role: message.role, parts: [{ type: 'text', content: messageText(message) }] };
}
