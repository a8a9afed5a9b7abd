import type { ChatStreamEvent } from '../types.js';

/**
 * Text streamed while an answer tool is offered but not forced (a schema with `toolChoice: 'auto'`):
 * held back, since the tool's input is the answer when the model calls it, and given at the end of
 * the stream, as the deltas it came in, only when it did not. The joined deltas then always equal
 * the answer's final content. Anthropic's and Bedrock's stream assemblers share it.
 */
export class HeldAnswerText {
  #pieces: string[] = [];

  /** Holds `text`; {@link release} decides whether it was the answer. */
  hold(text: string): void {
    this.#pieces.push(text);
  }

  /** Forgets what was held: the answer tool's block began, and the text before it is not the answer. */
  clear(): void {
    this.#pieces = [];
  }

  /** At the end of the stream: the held text as deltas when the answer tool was not called, else nothing. */
  release(answered: boolean): ChatStreamEvent[] {
    const pieces = this.#pieces;
    this.#pieces = [];
    return answered ? [] : pieces.map((text) => ({ type: 'delta', text, choice: 0 }));
  }
}

/** Whether one of a stream's content blocks is the answer tool's. */
export function answerBlockBegun(blocks: Iterable<{ readonly kind: string }>): boolean {
  for (const block of blocks) if (block.kind === 'answer') return true;
  return false;
}
