/**
 * The most output tokens each Claude family may write, used as `max_tokens` when a request sets
 * none (Anthropic requires the field; sending the model's own maximum is what "no limit" means
 * there). First match of the model id's prefix wins; `LLM_MAX_OUTPUT_TOKENS` overrides the table.
 *
 * | model id starts with            | max output |
 * | ------------------------------- | ---------- |
 * | `claude-3-haiku`, `claude-3-opus`, `claude-3-sonnet` | 4096 |
 * | `claude-3-5-`                   | 8192       |
 * | `claude-opus-4-0`, `claude-opus-4-1`, `claude-opus-4-2025` | 32000 |
 * | anything else (`claude-3-7-sonnet`, `claude-sonnet-4`, `claude-haiku-4-5`, `claude-opus-4-5`, later) | 64000 |
 */
const TABLE: ReadonlyArray<readonly [string, number]> = [
  ['claude-3-haiku', 4096],
  ['claude-3-opus', 4096],
  ['claude-3-sonnet', 4096],
  ['claude-3-5-', 8192],
  ['claude-opus-4-0', 32_000],
  ['claude-opus-4-1', 32_000],
  ['claude-opus-4-2025', 32_000],
];

/** Output maximum for models the table does not name: the current families' (Sonnet 4, Haiku 4.5, Opus 4.5). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 64_000;

/** The model's own output maximum, from {@link TABLE}. */
export function modelMaxOutputTokens(model: string): number {
  const id = model.toLowerCase();
  for (const [prefix, limit] of TABLE) if (id.startsWith(prefix)) return limit;
  return DEFAULT_MAX_OUTPUT_TOKENS;
}
