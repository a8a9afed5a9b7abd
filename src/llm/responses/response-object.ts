import { randomBytes } from 'node:crypto';
import type { ChatCompletion, TokenUsage, ToolCall } from '../types.js';
import { type AnswerExtras, answerExtras } from './answer-extras.js';
import type { ResponseObject, ResponsesBody } from './responses-types.js';

/** A fresh id with OpenAI's prefix (`resp_`, `msg_`, `fc_`, `rs_`, `ig_`) and 48 hex digits, as OpenAI's own look. */
export function newItemId(prefix: 'resp' | 'msg' | 'fc' | 'rs' | 'ig'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** OpenAI's `ResponseUsage` from Groundwork's token usage. */
export function responseUsage(usage: TokenUsage): Record<string, unknown> {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens ?? 0, cache_write_tokens: usage.cacheWritePromptTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.totalTokens,
  };
}

/** An assistant message item with one text (or refusal) part. */
export function messageItem(
  id: string,
  status: 'in_progress' | 'completed',
  part: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return { id, type: 'message', status, role: 'assistant', content: part === undefined ? [] : [part] };
}

/** The `output_text` content part, with the text's URL citations in the Responses API's shape. */
export function textPart(text: string, annotations: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [...annotations], logprobs: [] };
}

/** A `reasoning` item with the model's reasoning as one `reasoning_text` part (none yet while it streams). */
export function reasoningItem(id: string, text: string | undefined): Record<string, unknown> {
  return { id, type: 'reasoning', summary: [], content: text === undefined ? [] : [reasoningPart(text)] };
}

/** The `reasoning_text` content part. */
export function reasoningPart(text: string): Record<string, unknown> {
  return { type: 'reasoning_text', text };
}

/**
 * An `image_generation_call` item, as OpenAI's Responses API gives an image the model made: its
 * base64 bytes as `result` once completed (null before).
 */
export function imageItem(id: string, status: 'in_progress' | 'completed', result: string | null): Record<string, unknown> {
  return { id, type: 'image_generation_call', status, result };
}

/** The `refusal` content part. */
export function refusalPart(refusal: string): Record<string, unknown> {
  return { type: 'refusal', refusal };
}

/**
 * A `function_call` item, with Groundwork's `signature` extension when the call has one (Gemini's
 * thought signature, which the client sends back on the same item in the next turn).
 */
export function functionCallItem(id: string, call: ToolCall, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const item: Record<string, unknown> = { id, type: 'function_call', status, call_id: call.id, name: call.name, arguments: call.arguments };
  if (call.signature !== undefined) item['signature'] = call.signature;
  return item;
}

/**
 * The first `function_call` item of an answer with Groundwork's `reasoning_blocks` extension when
 * the answer has reasoning blocks (Anthropic's signed thinking), which the provider needs back at
 * the start of the turn that called the tool; any other item as it is.
 */
export function withReasoning(item: Record<string, unknown>, completion: ChatCompletion, position: number): Record<string, unknown> {
  return position === 0 && completion.reasoning !== undefined ? { ...item, reasoning_blocks: completion.reasoning } : item;
}

/** The answer's state: `incomplete` when it stopped at the token limit or a filter, else `completed`. */
export function finalStatus(completion: ChatCompletion): {
  status: 'completed' | 'incomplete';
  incomplete: Record<string, unknown> | null;
} {
  if (completion.finishReason === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (completion.finishReason === 'content_filter' && completion.refusal === undefined)
    return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { status: 'completed', incomplete: null };
}

/**
 * The `Response` envelope of a translated call: the request's settings echoed back as OpenAI
 * echoes them (defaults where the caller set none), with the given status, output and usage.
 */
export class ResponseEnvelope {
  readonly id: string;
  readonly createdAt: number;
  readonly #body: ResponsesBody;

  constructor(body: ResponsesBody, id: string = newItemId('resp'), createdAt: number = Math.floor(Date.now() / 1000)) {
    this.#body = body;
    this.id = id;
    this.createdAt = createdAt;
  }

  build(fields: {
    status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
    model: string;
    output: unknown[];
    usage?: TokenUsage | undefined;
    incomplete?: Record<string, unknown> | null;
    serviceTier?: string | undefined;
  }): ResponseObject {
    const body = this.#body;
    const echo = (key: string, fallback: unknown) => (body[key] === undefined ? fallback : body[key]);
    // Not nullable in a `Response`: a request's null means the default.
    const setting = (key: string, fallback: unknown) => body[key] ?? fallback;
    const text = (body['text'] ?? {}) as Record<string, unknown>;
    const reasoning = (body['reasoning'] ?? {}) as Record<string, unknown>;
    const response: ResponseObject = {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status: fields.status,
      completed_at: fields.status === 'completed' ? Math.floor(Date.now() / 1000) : null,
      error: null,
      incomplete_details: fields.incomplete ?? null,
      instructions: echo('instructions', null),
      max_output_tokens: echo('max_output_tokens', null),
      model: fields.model,
      output: fields.output,
      parallel_tool_calls: setting('parallel_tool_calls', true),
      previous_response_id: null,
      reasoning: { effort: reasoning['effort'] ?? null, summary: null },
      store: false,
      temperature: echo('temperature', 1),
      text: { format: answerFormat(text['format']), ...(text['verbosity'] === undefined ? {} : { verbosity: text['verbosity'] }) },
      tool_choice: setting('tool_choice', 'auto'),
      tools: setting('tools', []),
      top_p: echo('top_p', 1),
      truncation: 'disabled',
      usage: fields.usage === undefined ? null : responseUsage(fields.usage),
      metadata: echo('metadata', {}),
    };
    if (typeof body['user'] === 'string') response['user'] = body['user'];
    if (fields.serviceTier !== undefined) response['service_tier'] = fields.serviceTier;
    if (fields.usage === undefined) delete response['usage'];
    return response;
  }
}

/** The request's `text.format` as the answer used it: `text` by default, a JSON schema named `response` when it had no name. */
function answerFormat(format: unknown): unknown {
  if (format === undefined || format === null) return { type: 'text' };
  const { type, name } = format as { type?: unknown; name?: unknown };
  return type === 'json_schema' && typeof name !== 'string' ? { ...(format as object), name: 'response' } : format;
}

/**
 * A whole translated answer as a `Response`: a `reasoning` item when the answer has reasoning text,
 * a message item (text with its URL citations, or refusal), a `function_call` item per tool call,
 * and an `image_generation_call` item per image the model made (see {@link answerExtras}).
 */
export function responseFromCompletion(
  envelope: ResponseEnvelope,
  completion: ChatCompletion,
  extras: AnswerExtras = answerExtras(completion),
): ResponseObject {
  const output: unknown[] = [];
  if (extras.reasoning !== undefined) output.push(reasoningItem(newItemId('rs'), extras.reasoning));
  if (completion.refusal !== undefined) output.push(messageItem(newItemId('msg'), 'completed', refusalPart(completion.refusal)));
  else if (completion.content !== '')
    output.push(messageItem(newItemId('msg'), 'completed', textPart(completion.content, extras.annotations)));
  for (const [position, call] of (completion.toolCalls ?? []).entries())
    output.push(withReasoning(functionCallItem(newItemId('fc'), call, 'completed'), completion, position));
  for (const image of extras.images) output.push(imageItem(newItemId('ig'), 'completed', image));
  const { status, incomplete } = finalStatus(completion);
  return envelope.build({
    status,
    model: completion.model,
    output,
    usage: completion.usage,
    incomplete,
    serviceTier: completion.serviceTier,
  });
}
