import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { CompletionBase } from '../../model/completion-of.js';
import type { ChatStreamEvent } from '../../types.js';
import { answerBlockBegun, HeldAnswerText } from '../held-answer-text.js';
import { type AnthropicAnswerParts, answerMessage, emptyAnswerParts, thinkingBlock } from './anthropic-response.js';
import { type AnthropicUsage, mapAnthropicUsage, mergeAnthropicUsage } from './anthropic-usage.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

type BlockState =
  | { kind: 'text' }
  | { kind: 'thinking'; text: string; signature: string }
  | { kind: 'answer'; json: string }
  | { kind: 'tool'; call: number; json: string }
  | { kind: 'other' };

/**
 * Turns Anthropic stream events into {@link ChatStreamEvent}s and assembles the answer. Text deltas
 * are text; `input_json_delta`s of a tool call are tool-call deltas (the first with its id and
 * name, as OpenAI streams them); those of the structured-output tool are the answer's text. While
 * that tool is offered, text is held back until `message_stop` and given only if the tool was not
 * called, so that the joined deltas are always the final content. Thinking stays out of the text:
 * its `thinking_delta`s are reasoning deltas, and each thinking block is kept whole with its signature (from `signature_delta`), as are
 * `redacted_thinking` blocks, to send back in the next turn. Usage starts from `message_start`
 * and takes `message_delta`'s counts.
 */
export class AnthropicStreamAssembler {
  readonly #answerTool: string | undefined;
  readonly #blocks = new Map<number, BlockState>();
  readonly #parts: AnthropicAnswerParts = emptyAnswerParts();
  #usage: AnthropicUsage = {};
  #model: string;
  /** The model `message_start` named, if it did. */
  #reportedModel: string | undefined;
  #id: string | undefined;
  #serviceTier: string | undefined;
  #stopReason: string | null | undefined;
  #stopped = false;
  /** Text held back while an answer tool may still be called. */
  readonly #held = new HeldAnswerText();

  constructor(model: string, answerTool: string | undefined) {
    this.#model = model;
    this.#answerTool = answerTool;
  }

  /** The message's id, from `message_start`. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The model `message_start` says is answering, once it has named it. */
  get reportedModel(): string | undefined {
    return this.#reportedModel;
  }

  /** Whether `message_stop` arrived (a stream without it was cut short). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The events one stream event yields. */
  accept(event: RawMessageStreamEvent): ChatStreamEvent[] {
    switch (event.type) {
      case 'message_start':
        if (typeof event.message.model === 'string' && event.message.model !== '') this.#model = this.#reportedModel = event.message.model;
        if (typeof event.message.id === 'string' && event.message.id !== '') this.#id = event.message.id;
        this.#usage = mergeAnthropicUsage({}, event.message.usage);
        if (typeof event.message.usage?.service_tier === 'string') this.#serviceTier = event.message.usage.service_tier;
        return [];
      case 'content_block_start':
        return this.#start(event.index, event.content_block);
      case 'content_block_delta':
        return this.#delta(event.index, event.delta);
      case 'content_block_stop':
        this.#finishBlock(event.index);
        return [];
      case 'message_delta':
        this.#stopReason = event.delta.stop_reason;
        this.#usage = mergeAnthropicUsage(this.#usage, event.usage as AnthropicUsage);
        return [];
      case 'message_stop':
        this.#stopped = true;
        return this.#release();
      default:
        return [];
    }
  }

  /** The whole answer. */
  completion(): Omit<CompletionBase, 'provider'> {
    for (const index of this.#blocks.keys()) this.#finishBlock(index);
    const onlyAnswer = this.#parts.answer !== undefined && this.#parts.toolCalls.length === 0;
    const base: Omit<CompletionBase, 'provider'> = {
      model: this.#model,
      choices: [{ index: 0, message: answerMessage(this.#parts), finishReason: mapAnthropicStopReason(this.#stopReason, onlyAnswer) }],
      usage: mapAnthropicUsage(this.#usage),
    };
    if (this.#id !== undefined) base.id = this.#id;
    if (this.#serviceTier !== undefined) base.serviceTier = this.#serviceTier;
    return base;
  }

  #start(
    index: number,
    block: { type: string; id?: string; name?: string; text?: string; thinking?: string; signature?: string; data?: string },
  ): ChatStreamEvent[] {
    if (block.type === 'text') {
      this.#blocks.set(index, { kind: 'text' });
      return this.#text(block.text ?? '');
    }
    if (block.type === 'thinking') {
      this.#parts.thinking += block.thinking ?? '';
      this.#blocks.set(index, { kind: 'thinking', text: block.thinking ?? '', signature: block.signature ?? '' });
      return reasoningDelta(block.thinking ?? '');
    }
    if (block.type === 'redacted_thinking') {
      this.#parts.reasoning.push({ type: 'redacted', provider: 'anthropic', data: block.data ?? '' });
      this.#blocks.set(index, { kind: 'other' });
      return [];
    }
    if (block.type === 'tool_use' && block.name === this.#answerTool && this.#parts.answer === undefined) {
      this.#blocks.set(index, { kind: 'answer', json: '' });
      // The answer is the tool's input: text written before it is not part of it.
      return [];
    }
    if (block.type === 'tool_use') {
      const call = this.#parts.toolCalls.length;
      this.#parts.toolCalls.push({ id: block.id ?? '', type: 'function', name: block.name ?? '', arguments: '' });
      this.#blocks.set(index, { kind: 'tool', call, json: '' });
      return [{ type: 'tool-call-delta', choice: 0, index: call, id: block.id ?? '', name: block.name ?? '', arguments: '' }];
    }
    this.#blocks.set(index, { kind: 'other' });
    return [];
  }

  #delta(
    index: number,
    delta: { type: string; text?: string; partial_json?: string; thinking?: string; signature?: string },
  ): ChatStreamEvent[] {
    const block = this.#blocks.get(index);
    if (delta.type === 'text_delta') return this.#text(delta.text ?? '');
    if (delta.type === 'thinking_delta') {
      this.#parts.thinking += delta.thinking ?? '';
      if (block?.kind === 'thinking') block.text += delta.thinking ?? '';
      return reasoningDelta(delta.thinking ?? '');
    }
    if (delta.type === 'signature_delta') {
      if (block?.kind === 'thinking') block.signature += delta.signature ?? '';
      return [];
    }
    if (delta.type !== 'input_json_delta' || block === undefined) return [];
    const piece = delta.partial_json ?? '';
    if (piece === '') return [];
    if (block.kind === 'answer') {
      block.json += piece;
      return [{ type: 'delta', text: piece, choice: 0 }];
    }
    if (block.kind === 'tool') {
      block.json += piece;
      return [{ type: 'tool-call-delta', choice: 0, index: block.call, arguments: piece }];
    }
    return [];
  }

  #text(text: string): ChatStreamEvent[] {
    if (text === '') return [];
    this.#parts.text += text;
    if (this.#answerTool === undefined) return [{ type: 'delta', text, choice: 0 }];
    // Text beside the answer tool's input is not the answer: only text of an answer without it is given.
    this.#held.hold(text);
    return [];
  }

  /** The held text, as the deltas it came in, when the answer tool was not called (its input is the answer otherwise). */
  #release(): ChatStreamEvent[] {
    return this.#held.release(this.#parts.answer !== undefined || answerBlockBegun(this.#blocks.values()));
  }

  /** A finished tool block's arguments: the joined JSON, `{}` when the model streamed none (as Anthropic's `input` would be). */
  #finishBlock(index: number): void {
    const block = this.#blocks.get(index);
    if (block?.kind === 'tool') {
      const call = this.#parts.toolCalls[block.call];
      if (call !== undefined) call.arguments = block.json === '' ? '{}' : block.json;
    }
    if (block?.kind === 'answer') this.#parts.answer = block.json === '' ? '{}' : block.json;
    if (block?.kind === 'thinking') this.#parts.reasoning.push(thinkingBlock(block.text, block.signature));
    this.#blocks.delete(index);
  }
}

/** A piece of thinking as the reasoning delta it streams as (none for an empty piece). */
function reasoningDelta(text: string): ChatStreamEvent[] {
  return text === '' ? [] : [{ type: 'reasoning-delta', text, choice: 0 }];
}
