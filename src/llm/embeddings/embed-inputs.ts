import { LlmRequestError } from '../llm-errors.js';
import type { EmbeddingInput } from './embedding-request.js';

/** Most inputs one `embed` call takes; it is split into provider requests of at most 2048. */
export const MAX_EMBED_INPUTS = 1_000_000;

/** The inputs of an `embed` call as a list, refusing empty and malformed ones (every problem at once). */
export function embedInputs(input: EmbeddingInput | readonly EmbeddingInput[]): EmbeddingInput[] {
  const list: EmbeddingInput[] = isSingle(input) ? [input] : [...(input as readonly EmbeddingInput[])];
  const problems: string[] = [];
  if (list.length === 0) problems.push('input: must hold at least one text');
  if (list.length > MAX_EMBED_INPUTS) problems.push(`input: at most ${MAX_EMBED_INPUTS} inputs a call, not ${list.length}`);
  for (const [index, item] of list.entries()) {
    if (problems.length >= 5) break;
    if (typeof item === 'string') {
      if (item === '') problems.push(`input[${index}]: must not be empty`);
    } else if (!Array.isArray(item) || item.length === 0 || !item.every((token) => Number.isInteger(token) && token >= 0)) {
      problems.push(`input[${index}]: must be a non-empty text or a non-empty array of token ids`);
    }
  }
  if (problems.length > 0) throw new LlmRequestError(problems);
  return list;
}

/** Whether `input` is one input (a text or one token array) rather than a list of them. */
export function isSingle(input: EmbeddingInput | readonly EmbeddingInput[]): input is EmbeddingInput {
  return typeof input === 'string' || (Array.isArray(input) && input.every((item) => typeof item === 'number') && input.length > 0);
}
