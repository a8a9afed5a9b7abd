import type { ContentBlock, ConverseResponse, ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { CompletionBase } from '../../model/completion-of.js';
import type { AnswerMessage, ChatStreamEvent, ReasoningBlock, ToolCall } from '../../types.js';
import { answerBlockBegun, HeldAnswerText } from '../held-answer-text.js';
import { mapBedrockUsage } from './bedrock-usage.js';
import { mapBedrockStopReason } from './map-bedrock-stop-reason.js';

type BlockState =
  | { kind: 'text' }
  | { kind: 'answer'; json: string }
  | { kind: 'tool'; call: number; json: string }
  | { kind: 'reasoning'; text: string; signature: string; redacted: Uint8Array[] };

/**
 * Assembles a Converse answer, whole (`ConverseResponse`) or streamed (`ConverseStream` events):
 * text is text, `toolUse` blocks are tool calls (streamed input pieces as tool-call deltas, the
 * first with the id and name, as OpenAI streams them), the structured-output tool's input is the
 * answer's text, and reasoning is streamed as reasoning deltas and kept apart as `passthrough.reasoning_content`, its blocks
 * (signature included, or redacted bytes in base64) as `reasoning` to send back. While that tool
 * is offered, streamed text is held back until `messageStop` and given only if the tool was not
 * called, so that the joined deltas are always the final content.
 */
export class BedrockAnswerAssembler {
  readonly #answerTool: string | undefined;
  readonly #model: string;
  readonly #blocks = new Map<number, BlockState>();
  #text = '';
  #answer: string | undefined;
  #reasoning = '';
  /** The reasoning blocks, signed or redacted, to send back in the next turn. */
  readonly #reasoningBlocks: ReasoningBlock[] = [];
  readonly #toolCalls: ToolCall[] = [];
  #stopReason: string | undefined;
  #usage: TokenUsage | undefined;
  #gotMetadata = false;
  /** Text held back while an answer tool may still be called. */
  readonly #held = new HeldAnswerText();

  constructor(model: string, answerTool: string | undefined) {
    this.#model = model;
    this.#answerTool = answerTool;
  }

  /** Whether the stream said why it stopped and gave its usage (a stream without both was cut short). */
  get finished(): boolean {
    return this.#stopReason !== undefined && this.#gotMetadata;
  }

  /** Takes a whole Converse answer. */
  acceptResponse(response: ConverseResponse): void {
    for (const block of response.output?.message?.content ?? []) this.#wholeBlock(block);
    this.#stopReason = response.stopReason;
    this.#usage = response.usage;
    this.#gotMetadata = true;
  }

  /** The events one stream event yields. */
  accept(event: ConverseStreamOutput): ChatStreamEvent[] {
    if (event.contentBlockStart !== undefined) {
      const index = event.contentBlockStart.contentBlockIndex ?? 0;
      const tool = event.contentBlockStart.start?.toolUse;
      if (tool === undefined) return [];
      if (tool.name === this.#answerTool && this.#answer === undefined) {
        this.#blocks.set(index, { kind: 'answer', json: '' });
        // The answer is the tool's input: text written before it is not part of it.
        return [];
      }
      const call = this.#toolCalls.length;
      this.#toolCalls.push({ id: tool.toolUseId ?? '', type: 'function', name: tool.name ?? '', arguments: '' });
      this.#blocks.set(index, { kind: 'tool', call, json: '' });
      return [{ type: 'tool-call-delta', choice: 0, index: call, id: tool.toolUseId ?? '', name: tool.name ?? '', arguments: '' }];
    }
    if (event.contentBlockDelta !== undefined) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0;
      const delta = event.contentBlockDelta.delta;
      if (delta?.text !== undefined) {
        if (delta.text === '') return [];
        this.#text += delta.text;
        if (this.#answerTool === undefined) return [{ type: 'delta', text: delta.text, choice: 0 }];
        // Text beside the answer tool's input is not the answer: only text of an answer without it is given.
        this.#held.hold(delta.text);
        return [];
      }
      if (delta?.reasoningContent !== undefined) {
        const reasoning = this.#reasoningBlock(index);
        if (delta.reasoningContent.text !== undefined) {
          this.#reasoning += delta.reasoningContent.text;
          reasoning.text += delta.reasoningContent.text;
        }
        if (delta.reasoningContent.signature !== undefined) reasoning.signature += delta.reasoningContent.signature;
        if (delta.reasoningContent.redactedContent !== undefined) reasoning.redacted.push(delta.reasoningContent.redactedContent);
        const text = delta.reasoningContent.text;
        return text === undefined || text === '' ? [] : [{ type: 'reasoning-delta', text, choice: 0 }];
      }
      const piece = delta?.toolUse?.input;
      const block = this.#blocks.get(index);
      if (piece === undefined || piece === '' || block === undefined || block.kind === 'text' || block.kind === 'reasoning') return [];
      block.json += piece;
      if (block.kind === 'answer') return [{ type: 'delta', text: piece, choice: 0 }];
      return [{ type: 'tool-call-delta', choice: 0, index: block.call, arguments: piece }];
    }
    if (event.contentBlockStop !== undefined) {
      this.#finishBlock(event.contentBlockStop.contentBlockIndex ?? 0);
      return [];
    }
    if (event.messageStop !== undefined) {
      this.#stopReason = event.messageStop.stopReason;
      return this.#release();
    }
    if (event.metadata !== undefined) {
      this.#usage = event.metadata.usage;
      this.#gotMetadata = true;
    }
    return [];
  }

  /** The whole answer. */
  completion(): Omit<CompletionBase, 'provider'> {
    for (const index of this.#blocks.keys()) this.#finishBlock(index);
    const content = this.#answer ?? this.#text;
    const message: AnswerMessage = { content: content === '' && this.#toolCalls.length > 0 ? null : content };
    if (this.#toolCalls.length > 0) message.toolCalls = this.#toolCalls;
    if (this.#reasoning !== '') message.passthrough = { reasoning_content: this.#reasoning };
    if (this.#reasoningBlocks.length > 0) message.reasoning = this.#reasoningBlocks;
    const onlyAnswer = this.#answer !== undefined && this.#toolCalls.length === 0;
    return {
      model: this.#model,
      choices: [{ index: 0, message, finishReason: mapBedrockStopReason(this.#stopReason, onlyAnswer) }],
      usage: mapBedrockUsage(this.#usage),
    };
  }

  /** The streamed reasoning block at `index` (Converse starts no block for reasoning: its first delta does). */
  #reasoningBlock(index: number): Extract<BlockState, { kind: 'reasoning' }> {
    const block = this.#blocks.get(index);
    if (block?.kind === 'reasoning') return block;
    const started: Extract<BlockState, { kind: 'reasoning' }> = { kind: 'reasoning', text: '', signature: '', redacted: [] };
    this.#blocks.set(index, started);
    return started;
  }

  /** The held text, as the deltas it came in, when the answer tool was not called (its input is the answer otherwise). */
  #release(): ChatStreamEvent[] {
    return this.#held.release(this.#answer !== undefined || answerBlockBegun(this.#blocks.values()));
  }

  #wholeBlock(block: ContentBlock): void {
    if (block.text !== undefined) this.#text += block.text;
    else if (block.reasoningContent?.reasoningText?.text !== undefined) {
      const { text, signature } = block.reasoningContent.reasoningText;
      this.#reasoning += text;
      this.#reasoningBlocks.push(thinking(text, signature ?? ''));
    } else if (block.reasoningContent?.redactedContent !== undefined)
      this.#reasoningBlocks.push(redacted([block.reasoningContent.redactedContent]));
    else if (block.toolUse !== undefined) {
      const json = JSON.stringify(block.toolUse.input ?? {});
      if (block.toolUse.name === this.#answerTool && this.#answer === undefined) this.#answer = json;
      else this.#toolCalls.push({ id: block.toolUse.toolUseId ?? '', type: 'function', name: block.toolUse.name ?? '', arguments: json });
    }
  }

  /** A finished tool block's arguments: the joined JSON, `{}` when none was streamed. */
  #finishBlock(index: number): void {
    const block = this.#blocks.get(index);
    if (block?.kind === 'tool') {
      const call = this.#toolCalls[block.call];
      if (call !== undefined) call.arguments = block.json === '' ? '{}' : block.json;
    }
    if (block?.kind === 'answer') this.#answer = block.json === '' ? '{}' : block.json;
    if (block?.kind === 'reasoning')
      this.#reasoningBlocks.push(block.redacted.length > 0 ? redacted(block.redacted) : thinking(block.text, block.signature));
    this.#blocks.delete(index);
  }
}

/** Signed reasoning as a reasoning block; an empty signature is none. */
function thinking(text: string, signature: string): ReasoningBlock {
  return signature === '' ? { type: 'thinking', provider: 'bedrock', text } : { type: 'thinking', provider: 'bedrock', text, signature };
}

/** Redacted reasoning's bytes as a reasoning block, in base64. */
function redacted(pieces: readonly Uint8Array[]): ReasoningBlock {
  return { type: 'redacted', provider: 'bedrock', data: Buffer.concat(pieces.map((piece) => Buffer.from(piece))).toString('base64') };
}
