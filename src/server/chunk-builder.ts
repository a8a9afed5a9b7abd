import type { ChatChoice, ChatCompletion } from '../llm/types.js';
import type { CompletionIdentity } from './chat-response.js';
import { serviceFields } from './chat-response.js';
import { toOpenAiFinishReason, toOpenAiLogprobs, toOpenAiUsage } from './openai-wire.js';
import type { ServiceStreamEvent } from './service-backend.js';

/** What one choice has streamed so far. */
interface ChoiceProgress {
  text: boolean;
  refusal: boolean;
  /** Tool-call indexes whose first piece was sent. */
  toolCalls: Set<number>;
}

type Delta = Record<string, unknown>;

/**
 * Turns a stream's events into OpenAI `chat.completion.chunk` objects, as OpenAI streams them:
 * a role chunk when a choice starts, text and refusal deltas, tool calls whose first chunk holds
 * `index`, `id`, `type`, `function.name` and `arguments: ''` followed by argument pieces, then a
 * finish chunk per choice and, with `include_usage`, a usage chunk with empty `choices`. Whatever
 * the events did not stream (a cached answer replays only its text) is sent from the final answer
 * before the choice finishes, so the chunks always add up to the whole answer.
 */
export class ChunkBuilder {
  readonly #identity: CompletionIdentity;
  readonly #includeUsage: boolean;
  #model: string;
  readonly #choices = new Map<number, ChoiceProgress>();

  constructor(identity: CompletionIdentity, model: string, includeUsage: boolean) {
    this.#identity = identity;
    this.#model = model;
    this.#includeUsage = includeUsage;
  }

  /** The first chunk, sent before any event: choice 0 starts. */
  start(): object[] {
    return this.#begin(0);
  }

  /** The chunks for one event (none for events the wire has no place for). */
  chunks(event: ServiceStreamEvent): object[] {
    switch (event.type) {
      case 'delta':
        if (event.text === '') return [];
        return this.#delta(event.choice ?? 0, (progress) => {
          progress.text = true;
          return [{ content: event.text }];
        });
      case 'refusal-delta':
        if (event.text === '') return [];
        return this.#delta(event.choice ?? 0, (progress) => {
          progress.refusal = true;
          return [{ refusal: event.text }];
        });
      case 'tool-call-delta':
        return this.#delta(event.choice ?? 0, (progress) => {
          const deltas: Delta[] = [];
          if (!progress.toolCalls.has(event.index)) {
            progress.toolCalls.add(event.index);
            deltas.push(toolCallStart(event.index, event.id ?? '', event.name ?? ''));
          }
          if (event.arguments !== '') deltas.push({ tool_calls: [{ index: event.index, function: { arguments: event.arguments } }] });
          return deltas;
        });
      case 'logprobs-delta': {
        const choice = event.choice ?? 0;
        return [
          ...this.#begin(choice),
          this.#chunk([{ index: choice, delta: {}, logprobs: toOpenAiLogprobs(event.logprobs), finish_reason: null }]),
        ];
      }
      case 'done':
        return this.finish(event.completion);
      case 'start':
        return [];
    }
  }

  /** What is left of each choice, its finish chunk, and the usage chunk when asked for. */
  finish(completion: ChatCompletion): object[] {
    this.#model = completion.model;
    const extra = serviceFields(completion);
    const chunks: object[] = [];
    for (const choice of completion.choices) {
      chunks.push(...this.#begin(choice.index), ...this.#remainder(choice));
      const finish = { index: choice.index, delta: {}, logprobs: null, finish_reason: toOpenAiFinishReason(choice.finishReason) };
      chunks.push({ ...this.#chunk([finish]), ...extra });
    }
    if (this.#includeUsage) chunks.push({ ...this.#base(), ...extra, choices: [], usage: toOpenAiUsage(completion.usage) });
    return chunks;
  }

  #remainder(choice: ChatChoice): object[] {
    const progress = this.#progress(choice.index);
    const deltas: Delta[] = [];
    const { content, refusal, toolCalls } = choice.message;
    if (!progress.text && content !== null && content !== '') deltas.push({ content });
    if (!progress.refusal && refusal !== undefined && refusal !== '') deltas.push({ refusal });
    for (const [index, call] of (toolCalls ?? []).entries()) {
      if (progress.toolCalls.has(index)) continue;
      deltas.push(toolCallStart(index, call.id, call.name));
      if (call.arguments !== '') deltas.push({ tool_calls: [{ index, function: { arguments: call.arguments } }] });
    }
    return deltas.map((delta) => this.#chunk([{ index: choice.index, delta, logprobs: null, finish_reason: null }]));
  }

  #delta(choice: number, build: (progress: ChoiceProgress) => Delta[]): object[] {
    const started = this.#begin(choice);
    const deltas = build(this.#progress(choice));
    return [...started, ...deltas.map((delta) => this.#chunk([{ index: choice, delta, logprobs: null, finish_reason: null }]))];
  }

  /** The role chunk of a choice the first time it is seen, else nothing. */
  #begin(choice: number): object[] {
    if (this.#choices.has(choice)) return [];
    this.#choices.set(choice, { text: false, refusal: false, toolCalls: new Set() });
    return [this.#chunk([{ index: choice, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])];
  }

  #progress(choice: number): ChoiceProgress {
    const progress = this.#choices.get(choice);
    if (progress === undefined) throw new Error(`choice ${choice} streamed before it began`);
    return progress;
  }

  #base() {
    return { id: this.#identity.id, object: 'chat.completion.chunk' as const, created: this.#identity.created, model: this.#model };
  }

  #chunk(choices: object[]): object {
    return this.#includeUsage ? { ...this.#base(), choices, usage: null } : { ...this.#base(), choices };
  }
}

function toolCallStart(index: number, id: string, name: string): Delta {
  return { tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] };
}
