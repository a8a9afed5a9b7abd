import type { ChatCompletion } from '../llm/types.js';

/** The answers a compute handed back not to be stored, each with why. Weak: an answer forgotten by its callers goes. */
const uncached = new WeakMap<ChatCompletion, string>();

/**
 * `completion` as a {@link SharedCompute} hands it back when it must not be stored under the key it
 * was computed for: a copy the callers (and the callers sharing its flight) get as any answer, and
 * that {@link uncachedReason} names, so that no later call is answered with it. The LLM client hands
 * one back when a fallback answered, since the key names the primary's provider and model. A cache
 * that does not ask {@link uncachedReason} stores it as any answer.
 *
 * @param reason Why it is not stored, for the debug log (e.g. `answered by a fallback, anthropic/claude-3-5-haiku-latest`).
 */
export function uncachedAnswer(completion: ChatCompletion, reason: string): ChatCompletion {
  const answer = { ...completion };
  uncached.set(answer, reason);
  return answer;
}

/** Why `completion` must not be stored (see {@link uncachedAnswer}); undefined when it may be. */
export function uncachedReason(completion: ChatCompletion): string | undefined {
  return uncached.get(completion);
}
