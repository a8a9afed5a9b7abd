import { REASONING_TEXT_FIELDS } from '../llm/model/reasoning-text.js';
import type { ChatChoice, ChatCompletion } from '../llm/types.js';
import type { CompletionIdentity } from './chat-response.js';
import { serviceFields } from './chat-response.js';
import { toOpenAiFinishReason, toOpenAiLogprobs, toOpenAiUsage } from './openai-wire.js';
import type { ServiceStreamEvent } from './service-backend.js';

/** What one choice has streamed so far. */
interface ChoiceProgress {
  text: boolean;
  refusal: boolean;
  /** The reasoning streamed so far, which the end-of-stream delta does not repeat. */
  reasoning: string;
  /** Tool-call indexes whose first piece was sent. */
  toolCalls: Set<number>;
}

/**
 * Turns a stream's events into OpenAI `chat.completion.chunk`s, as OpenAI streams them, each
 * already serialised (the `data:` of one server-sent event): a role chunk when a choice starts,
 * text and refusal deltas, tool calls whose first chunk holds `index`, `id`, `type`,
 * `function.name` and `arguments: ''` followed by argument pieces, then a finish chunk per choice
 * and, with `include_usage`, a usage chunk with empty `choices`. Whatever the events did not stream
 * (a provider that sent a piece only in its final answer) is sent from the final answer before the choice
 * finishes, so the chunks always add up to the whole answer; so are Groundwork's extensions, known
 * only at the end: each tool call's `signature` and the message's `reasoning_blocks`. The answer's
 * unmodelled message fields (`reasoning_content`, `audio`, `annotations`…), which the whole answer's
 * message carries, go in one delta of their own just before the choice's finish chunk. Reasoning
 * streamed as it came (`reasoning_content` deltas, whatever the provider named it) is not sent
 * again there.
 *
 * The fields every chunk repeats (`id`, `object`, `created`, `model`) are serialised once per
 * stream, and every chunk of a choice is laid out by one method, with each of its own values
 * serialised as `JSON.stringify` serialises it: an event costs the serialising of its own values,
 * not of a whole chunk object built for it. The text is the same as `JSON.stringify` of the chunk object, key for key.
 */
export class ChunkBuilder {
  readonly #identity: CompletionIdentity;
  readonly #includeUsage: boolean;
  readonly #choices = new Map<number, ChoiceProgress>();
  /** `{"id":…,"object":…,"created":…,"model":…` for the current model. */
  #head: string;
  /** What follows a choice chunk's `choices`: `,"usage":null` with `include_usage`, else nothing. */
  readonly #usageNull: string;

  constructor(identity: CompletionIdentity, model: string, includeUsage: boolean) {
    this.#identity = identity;
    this.#includeUsage = includeUsage;
    this.#usageNull = includeUsage ? ',"usage":null' : '';
    this.#head = this.#headFor(model);
  }

  /** The first chunk, sent before any event: choice 0 starts. */
  start(): string[] {
    const chunks: string[] = [];
    this.#begin(0, chunks);
    return chunks;
  }

  /** The chunks for one event (none for events the wire has no place for). */
  chunks(event: ServiceStreamEvent): string[] {
    const chunks: string[] = [];
    switch (event.type) {
      case 'delta':
        if (event.text !== '') this.#textDelta(event.choice ?? 0, 'content', event.text, chunks);
        return chunks;
      case 'refusal-delta':
        if (event.text !== '') this.#textDelta(event.choice ?? 0, 'refusal', event.text, chunks);
        return chunks;
      case 'reasoning-delta':
        if (event.text !== '') this.#reasoningDelta(event.choice ?? 0, event.text, chunks);
        return chunks;
      case 'tool-call-delta': {
        const choice = event.choice ?? 0;
        const progress = this.#begin(choice, chunks);
        if (!progress.toolCalls.has(event.index)) {
          progress.toolCalls.add(event.index);
          chunks.push(this.#choiceChunk(choice, toolCallStart(event.index, event.id ?? '', event.name ?? '')));
        }
        if (event.arguments !== '') chunks.push(this.#choiceChunk(choice, toolCallArguments(event.index, event.arguments)));
        return chunks;
      }
      case 'logprobs-delta': {
        const choice = event.choice ?? 0;
        this.#begin(choice, chunks);
        chunks.push(this.#choiceChunk(choice, '{}', JSON.stringify(toOpenAiLogprobs(event.logprobs))));
        return chunks;
      }
      case 'done':
        return this.finish(event.completion);
      case 'start':
        return chunks;
    }
  }

  /** What is left of each choice, its finish chunk, and the usage chunk when asked for. */
  finish(completion: ChatCompletion): string[] {
    this.#head = this.#headFor(completion.model);
    const extra = serviceFieldsJson(completion);
    const chunks: string[] = [];
    for (const choice of completion.choices) {
      this.#remainder(choice, this.#begin(choice.index, chunks), chunks);
      chunks.push(this.#choiceChunk(choice.index, '{}', 'null', JSON.stringify(toOpenAiFinishReason(choice.finishReason)), extra));
    }
    if (this.#includeUsage) chunks.push(`${this.#head}${extra},"choices":[],"usage":${JSON.stringify(toOpenAiUsage(completion.usage))}}`);
    return chunks;
  }

  #remainder(choice: ChatChoice, progress: ChoiceProgress, chunks: string[]): void {
    const { content, refusal, toolCalls } = choice.message;
    if (!progress.text && content !== null && content !== '') chunks.push(this.#choiceChunk(choice.index, textDelta('content', content)));
    if (!progress.refusal && refusal !== undefined && refusal !== '')
      chunks.push(this.#choiceChunk(choice.index, textDelta('refusal', refusal)));
    for (const [index, call] of (toolCalls ?? []).entries()) {
      if (!progress.toolCalls.has(index)) {
        chunks.push(this.#choiceChunk(choice.index, toolCallStart(index, call.id, call.name)));
        if (call.arguments !== '') chunks.push(this.#choiceChunk(choice.index, toolCallArguments(index, call.arguments)));
      }
      if (call.signature !== undefined)
        chunks.push(this.#choiceChunk(choice.index, JSON.stringify({ tool_calls: [{ index, signature: call.signature }] })));
    }
    const unmodelled = unmodelledDelta(choice, progress.reasoning);
    if (unmodelled !== undefined) chunks.push(this.#choiceChunk(choice.index, unmodelled));
    const reasoning = choice.message.reasoning;
    if (reasoning !== undefined && reasoning.length > 0)
      chunks.push(this.#choiceChunk(choice.index, JSON.stringify({ reasoning_blocks: reasoning })));
  }

  /** A text or refusal piece, written into its chunk without an object built for it. */
  #textDelta(choice: number, field: 'content' | 'refusal', text: string, chunks: string[]): void {
    const progress = this.#begin(choice, chunks);
    if (field === 'content') progress.text = true;
    else progress.refusal = true;
    chunks.push(this.#choiceChunk(choice, textDelta(field, text)));
  }

  /**
   * A piece of reasoning, as `reasoning_content`: the name DeepSeek and vLLM stream it under and the
   * one chat clients read, whatever name the provider gave it.
   */
  #reasoningDelta(choice: number, text: string, chunks: string[]): void {
    const progress = this.#begin(choice, chunks);
    progress.reasoning += text;
    chunks.push(this.#choiceChunk(choice, `{"reasoning_content":${JSON.stringify(text)}}`));
  }

  /** The progress of `choice`; the first time it is seen, its role chunk goes to `chunks` first. */
  #begin(choice: number, chunks: string[]): ChoiceProgress {
    let progress = this.#choices.get(choice);
    if (progress === undefined) {
      progress = { text: false, refusal: false, reasoning: '', toolCalls: new Set() };
      this.#choices.set(choice, progress);
      chunks.push(this.#choiceChunk(choice, ROLE_DELTA));
    }
    return progress;
  }

  #headFor(model: string): string {
    const { id, created } = this.#identity;
    return `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(created)}${member('model', model)}`;
  }

  /**
   * The one layout of a chunk of one choice: its `delta`, `logprobs` and `finish_reason` given
   * already serialised, then `usage: null` with `include_usage`, then `extra` (the service's fields,
   * on a finish chunk).
   */
  #choiceChunk(choice: number, delta: string, logprobs = 'null', finishReason = 'null', extra = ''): string {
    return `${this.#head},"choices":[{"index":${jsonNumber(choice)},"delta":${delta},"logprobs":${logprobs},"finish_reason":${finishReason}}]${this.#usageNull}${extra}}`;
  }
}

/** A number as `JSON.stringify` writes it (`null` for `NaN` and the infinities), without its cost per call. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** The delta that starts a choice. */
const ROLE_DELTA = '{"role":"assistant","content":""}';

/** `{"content":…}` or `{"refusal":…}`; `{}` for a missing text, as `JSON.stringify` leaves it out. */
function textDelta(field: 'content' | 'refusal', text: string): string {
  const json = JSON.stringify(text) as string | undefined;
  return json === undefined ? '{}' : `{"${field}":${json}}`;
}

/** `,"key":value` serialised, or '' for a missing value, as `JSON.stringify` leaves it out of an object. */
function member(key: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : `,"${key}":${json}`;
}

/** `,"system_fingerprint":…,"service_tier":…` for the fields the answer has, else ''. */
function serviceFieldsJson(completion: ChatCompletion): string {
  const fields = JSON.stringify(serviceFields(completion));
  return fields === '{}' ? '' : `,${fields.slice(1, -1)}`;
}

/** Fields a delta carries in their own shape; a pass-through field of the same name is not sent in their place. */
const DELTA_FIELDS = new Set(['role', 'content', 'refusal', 'tool_calls']);

/**
 * The message's pass-through fields as one serialised delta, or undefined when it has none. A
 * reasoning field holds what `streamed` already sent: only the rest of it is sent (none when
 * nothing is left), so that the chunks add up to the reasoning once.
 */
function unmodelledDelta(choice: ChatChoice, streamed: string): string | undefined {
  const passthrough = choice.message.passthrough;
  if (passthrough === undefined) return undefined;
  const fields: [string, unknown][] = [];
  for (const [key, value] of Object.entries(passthrough)) {
    if (DELTA_FIELDS.has(key) || value === undefined) continue;
    if (streamed !== '' && REASONING_TEXT_FIELDS.has(key) && typeof value === 'string' && value.startsWith(streamed)) {
      if (value.length > streamed.length) fields.push([key, value.slice(streamed.length)]);
    } else fields.push([key, value]);
  }
  return fields.length === 0 ? undefined : JSON.stringify(Object.fromEntries(fields));
}

function toolCallStart(index: number, id: string, name: string): string {
  return JSON.stringify({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
}

function toolCallArguments(index: number, piece: string): string {
  return JSON.stringify({ tool_calls: [{ index, function: { arguments: piece } }] });
}
