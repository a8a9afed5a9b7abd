/**
 * An OpenAI answer's `created` when it is a creation time as the spec defines it, whole Unix
 * seconds after 1970; undefined otherwise. Azure's prompt-filter chunk says 0, and a compatible
 * server may send a fraction, which an OpenAI client reading the answer back would not expect.
 */
export function openAiCreated(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
