import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionBase } from '../../model/completion-of.js';
import { reasoningTextOf } from '../../model/reasoning-text.js';
import type { ChatChoice, ChatStreamEvent, TokenLogprob, TokenUsage } from '../../types.js';
import { answerIndex } from '../answer-index.js';
import { mapOpenAiFinishReason } from './map-openai-finish-reason.js';
import { openAiCreated } from './openai-created.js';
import { mapOpenAiLogprobs } from './openai-logprobs.js';
import { mapOpenAiUsage } from './openai-usage.js';

interface ToolCallState {
  id: string;
  name: string;
  arguments: string;
}

interface ChoiceState {
  content: string;
  sawContent: boolean;
  refusal: string | undefined;
  toolCalls: Map<number, ToolCallState>;
  finish: string | undefined;
  logprobs: { content: TokenLogprob[] | null; refusal: TokenLogprob[] | null } | undefined;
  /** Unmodelled delta fields (`reasoning_content`, `audio`, `annotations`…), gathered across chunks. */
  passthrough: Record<string, unknown>;
}

/** Delta fields the assembler models; the others are gathered into the message's `passthrough`. */
const MODELLED_DELTA_FIELDS = new Set(['role', 'content', 'refusal', 'tool_calls']);

/**
 * Fields of a streamed object that name it rather than add to it: each piece repeats them whole
 * (OpenRouter's `reasoning_details` pieces each repeat their `format`).
 */
const NAMING_FIELDS = new Set(['id', 'type', 'index', 'format']);

/**
 * `piece` added to what a field holds so far: strings joined (`reasoning_content`, an audio
 * transcript's pieces), arrays concatenated (`annotations`) unless their entries carry an `index`
 * (pieces of indexed entries, as `tool_calls` streams them: OpenRouter's `reasoning_details`), which
 * are merged into the entry of the same index, objects merged field by field with the same rule,
 * anything else (numbers, a naming field such as `id`) replaced by the later piece.
 */
function gathered(held: unknown, piece: unknown, key: string): unknown {
  if (typeof held === 'string' && typeof piece === 'string' && !NAMING_FIELDS.has(key)) return held + piece;
  if (Array.isArray(held) && Array.isArray(piece)) return isIndexed(held) && isIndexed(piece) ? byIndex(held, piece) : [...held, ...piece];
  if (isRecord(held) && isRecord(piece)) {
    const merged: Record<string, unknown> = { ...held };
    for (const [field, value] of Object.entries(piece))
      if (value !== null && value !== undefined) merged[field] = gathered(held[field], value, field);
    return merged;
  }
  return piece;
}

/** Whether every entry of `entries` is an object with a numeric `index`. */
function isIndexed(entries: unknown[]): entries is Array<Record<string, unknown> & { index: number }> {
  return entries.length > 0 && entries.every((entry) => isRecord(entry) && typeof entry['index'] === 'number');
}

/** Indexed pieces merged into the held entries of the same index; a new index is added. */
function byIndex(
  held: Array<Record<string, unknown> & { index: number }>,
  pieces: Array<Record<string, unknown> & { index: number }>,
): unknown[] {
  const merged: unknown[] = [...held];
  for (const piece of pieces) {
    const at = merged.findIndex((entry) => (entry as { index: number }).index === piece.index);
    if (at < 0) merged.push(piece);
    else merged[at] = gathered(merged[at], piece, String(piece.index));
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns OpenAI stream chunks into {@link ChatStreamEvent}s and assembles the whole answer: text,
 * refusal, tool-call and logprobs deltas per choice index, tool-call arguments joined across
 * chunks, usage from whichever chunk carries it (the last one, with `include_usage`). Delta fields
 * it does not model (`reasoning_content` from vLLM and DeepSeek, `audio`, `annotations`) are
 * gathered per choice into the message's `passthrough`, as the whole answer keeps them; the
 * reasoning's text (`reasoning_content`, or `reasoning`) is also given as reasoning deltas as it comes.
 */
export class OpenAiStreamAssembler {
  readonly #choices = new Map<number, ChoiceState>();
  #usage: TokenUsage | undefined;
  #model: string;
  /** The model the chunks named, if any did. */
  #reportedModel: string | undefined;
  #id: string | undefined;
  #created: number | undefined;
  #systemFingerprint: string | undefined;
  #serviceTier: string | undefined;

  readonly #provider: string;

  /** `provider` names the upstream in the errors a malformed chunk raises. */
  constructor(model: string, provider = 'openai') {
    this.#model = model;
    this.#provider = provider;
  }

  /** The events one chunk yields, in order. */
  accept(chunk: ChatCompletionChunk): ChatStreamEvent[] {
    if (chunk.usage) this.#usage = mapOpenAiUsage(chunk.usage);
    if (typeof chunk.model === 'string' && chunk.model !== '') this.#model = this.#reportedModel = chunk.model;
    if (typeof chunk.id === 'string' && chunk.id !== '') this.#id ??= chunk.id;
    // Azure's first chunk may hold only the prompt's filter results, with `id: ''` and `created: 0`.
    this.#created ??= openAiCreated(chunk.created);
    if (typeof chunk.system_fingerprint === 'string') this.#systemFingerprint = chunk.system_fingerprint;
    if (typeof chunk.service_tier === 'string') this.#serviceTier = chunk.service_tier;
    const events: ChatStreamEvent[] = [];
    for (const choice of chunk.choices ?? []) {
      const index = answerIndex(choice.index, 0, 'choice index', this.#provider, this.#model);
      const state = this.#choice(index);
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string') {
        state.sawContent = true;
        if (delta.content !== '') {
          state.content += delta.content;
          events.push({ type: 'delta', text: delta.content, choice: index });
        }
      }
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        state.refusal = (state.refusal ?? '') + delta.refusal;
        events.push({ type: 'refusal-delta', text: delta.refusal, choice: index });
      }
      const reasoning = reasoningTextOf(delta);
      if (reasoning !== undefined) events.push({ type: 'reasoning-delta', text: reasoning, choice: index });
      for (const call of delta.tool_calls ?? []) {
        const event = this.#toolCall(state, index, call);
        if (event !== undefined) events.push(event);
      }
      const logprobs = mapOpenAiLogprobs(choice.logprobs);
      if (logprobs !== undefined && (logprobs.content?.length || logprobs.refusal?.length)) {
        state.logprobs ??= { content: null, refusal: null };
        if (logprobs.content !== null) state.logprobs.content = [...(state.logprobs.content ?? []), ...logprobs.content];
        if (logprobs.refusal !== null) state.logprobs.refusal = [...(state.logprobs.refusal ?? []), ...logprobs.refusal];
        events.push({ type: 'logprobs-delta', choice: index, logprobs });
      }
      for (const [key, value] of Object.entries(delta)) {
        if (!MODELLED_DELTA_FIELDS.has(key) && value !== null && value !== undefined)
          state.passthrough[key] = gathered(state.passthrough[key], value, key);
      }
      if (choice.finish_reason) state.finish = choice.finish_reason;
    }
    return events;
  }

  /** The answer's id, from the first chunk that carries one. */
  get id(): string | undefined {
    return this.#id;
  }

  /** When the answer was made, in Unix seconds, from the first chunk that says so. */
  get created(): number | undefined {
    return this.#created;
  }

  /** The model the chunks say is answering (Azure: the model behind the deployment), once one has named it. */
  get reportedModel(): string | undefined {
    return this.#reportedModel;
  }

  /** Whether every choice seen has finished (a stream without a finish was cut short). */
  get finished(): boolean {
    if (this.#choices.size === 0) return false;
    for (const state of this.#choices.values()) if (state.finish === undefined) return false;
    return true;
  }

  /** The whole answer so far. */
  completion(): Omit<CompletionBase, 'provider'> {
    const choices: ChatChoice[] = [...this.#choices.entries()]
      .sort(([left], [right]) => left - right)
      .map(([index, state]) => {
        const choice: ChatChoice = {
          index,
          message: { content: state.sawContent || state.refusal === undefined ? state.content : null },
          finishReason: mapOpenAiFinishReason(state.finish),
        };
        const calls = [...state.toolCalls.entries()].sort(([left], [right]) => left - right).map(([, call]) => call);
        if (calls.length > 0) {
          choice.message.toolCalls = calls.map((call) => ({ id: call.id, type: 'function', name: call.name, arguments: call.arguments }));
          if (!state.sawContent || state.content === '') choice.message.content = null;
        }
        if (state.refusal !== undefined) choice.message.refusal = state.refusal;
        if (state.logprobs !== undefined) choice.logprobs = state.logprobs;
        if (Object.keys(state.passthrough).length > 0) choice.message.passthrough = state.passthrough;
        return choice;
      });
    const base: Omit<CompletionBase, 'provider'> = { model: this.#model, choices, usage: this.#usage ?? mapOpenAiUsage(undefined) };
    if (this.#id !== undefined) base.id = this.#id;
    if (this.#created !== undefined) base.created = this.#created;
    if (this.#systemFingerprint !== undefined) base.systemFingerprint = this.#systemFingerprint;
    if (this.#serviceTier !== undefined) base.serviceTier = this.#serviceTier;
    return base;
  }

  #choice(index: number): ChoiceState {
    let state = this.#choices.get(index);
    if (state === undefined) {
      state = {
        content: '',
        sawContent: false,
        refusal: undefined,
        toolCalls: new Map(),
        finish: undefined,
        logprobs: undefined,
        passthrough: {},
      };
      this.#choices.set(index, state);
    }
    return state;
  }

  #toolCall(state: ChoiceState, choice: number, call: ChatCompletionChunk.Choice.Delta.ToolCall): ChatStreamEvent | undefined {
    const index = answerIndex(call.index, state.toolCalls.size, 'tool call index', this.#provider, this.#model);
    const known = state.toolCalls.get(index);
    const piece = call.function?.arguments ?? '';
    if (known === undefined) {
      const fresh = { id: call.id ?? '', name: call.function?.name ?? '', arguments: piece };
      state.toolCalls.set(index, fresh);
      return { type: 'tool-call-delta', choice, index, id: fresh.id, name: fresh.name, arguments: piece };
    }
    if (call.id) known.id = call.id;
    if (call.function?.name && known.name === '') known.name = call.function.name;
    known.arguments += piece;
    if (piece === '' && !call.id && !call.function?.name) return undefined;
    const event: ChatStreamEvent = { type: 'tool-call-delta', choice, index, arguments: piece };
    if (call.id) event.id = call.id;
    if (call.function?.name) event.name = call.function.name;
    return event;
  }
}
