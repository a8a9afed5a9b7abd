import type { ChatChoice, ChatCompletion } from './chat-completion.js';

/** The parts of a completion that are not its first choice's mirror. */
export type CompletionBase = Omit<ChatCompletion, 'content' | 'finishReason' | 'toolCalls' | 'refusal' | 'reasoning'>;

/**
 * A {@link ChatCompletion} whose top-level `content`, `finishReason`, `toolCalls`, `refusal` and `reasoning` mirror its first choice.
 * `base` becomes the completion (the mirrored fields are set on it, after its own): pass an object made for it.
 */
export function completionOf(base: CompletionBase): ChatCompletion {
  const first: ChatChoice | undefined = base.choices[0];
  const completion = base as ChatCompletion;
  completion.content = first?.message.content ?? '';
  completion.finishReason = first?.finishReason ?? 'unknown';
  if (first?.message.toolCalls !== undefined && first.message.toolCalls.length > 0) completion.toolCalls = first.message.toolCalls;
  if (first?.message.refusal !== undefined) completion.refusal = first.message.refusal;
  if (first?.message.reasoning !== undefined && first.message.reasoning.length > 0) completion.reasoning = first.message.reasoning;
  return completion;
}
