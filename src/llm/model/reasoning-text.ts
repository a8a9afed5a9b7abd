/**
 * The fields OpenAI-compatible servers put a reasoning model's thinking under, in a message or a
 * streamed delta: `reasoning_content` (DeepSeek, vLLM; Groundwork's own providers keep it there
 * too) and `reasoning` (OpenRouter, newer vLLM).
 */
export const REASONING_TEXT_FIELDS: ReadonlySet<string> = new Set(['reasoning_content', 'reasoning']);

/**
 * The reasoning text `fields` (a message's `passthrough`, a streamed delta) carry: its
 * `reasoning_content`, else its `reasoning` (servers that send both send the same text under the
 * two names); undefined when neither is text with something in it.
 */
export function reasoningTextOf(fields: object | undefined): string | undefined {
  const { reasoning_content: content, reasoning } = (fields ?? {}) as { reasoning_content?: unknown; reasoning?: unknown };
  if (typeof content === 'string' && content !== '') return content;
  if (typeof reasoning === 'string' && reasoning !== '') return reasoning;
  return undefined;
}
