import type { ChatCompletion } from '../llm/types.js';

/**
 * What a {@link SharedCompute} hands back instead of a plain answer when the answer must not be
 * stored under the key it was computed for: its caller (and the callers sharing its flight) still
 * get it, but no later call is answered with it. The LLM client returns one when a fallback
 * answered, since the key names the primary's provider and model.
 */
export class UncachedAnswer {
  /**
   * @param completion The answer, handed on unchanged.
   * @param reason Why it is not stored, for the debug log (e.g. `answered by a fallback, anthropic/claude-3-5-haiku-latest`).
   */
  constructor(
    readonly completion: ChatCompletion,
    readonly reason: string,
  ) {}
}

/** The answer of a compute, stored or not. */
export function answerOf(answer: ChatCompletion | UncachedAnswer): ChatCompletion {
  return answer instanceof UncachedAnswer ? answer.completion : answer;
}
