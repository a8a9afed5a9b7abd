import { embeddingDimensions } from '../llm/embeddings/known-embedding-models.js';
import { vectorToBase64 } from '../llm/embeddings/vector-codec.js';
import type { FakeAnswer } from './fake-behaviour.js';

/** The vector length the fake server answers `model` with when the request asks none. */
const DEFAULT_DIMENSIONS = 1536;

/**
 * A deterministic unit vector for `input`: a pseudo-random generator seeded by the input's hash
 * (FNV-1a), normalised. The same input gives the same vector on every run; different inputs
 * give vectors far apart.
 */
export function fakeEmbedding(input: string | readonly number[], dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  const text = typeof input === 'string' ? input : `tokens:${input.join(',')}`;
  for (let index = 0; index < text.length; index++) seed = Math.imul(seed ^ text.charCodeAt(index), 0x01000193);
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), seed | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    const unit = ((value ^ (value >>> 14)) >>> 0) / 4294967296 - 0.5;
    vector[index] = unit;
    norm += unit * unit;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let index = 0; index < dimensions; index++) vector[index]! *= scale;
  return vector;
}

/**
 * The message of OpenAI's 400 for an embeddings input it refuses: missing, an empty text, an empty
 * list, or a list holding an empty text or an empty list of token ids; undefined when it passes.
 */
export function invalidEmbeddingsInput(body: Record<string, unknown>): string | undefined {
  const input = body['input'];
  const empty = (item: unknown): boolean => item === '' || (Array.isArray(item) && item.length === 0);
  if (input === undefined || input === null || empty(input) || (Array.isArray(input) && input.some(empty)))
    return "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";
  return undefined;
}

/** OpenAI's `CreateEmbeddingResponse` for a request body: one vector per input, usage at 4 characters a token. */
export function fakeEmbeddingsBody(body: Record<string, unknown>, model: string, behaviour: FakeAnswer): unknown {
  const raw = body['input'];
  const inputs: Array<string | number[]> =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === 'number')
        ? [raw as number[]]
        : Array.isArray(raw)
          ? (raw as Array<string | number[]>)
          : [];
  const requested = typeof body['dimensions'] === 'number' ? body['dimensions'] : undefined;
  const dimensions = behaviour.dimensions ?? embeddingDimensions(model, requested) ?? DEFAULT_DIMENSIONS;
  const base64 = body['encoding_format'] === 'base64';
  const counted = inputs.reduce((sum, item) => sum + (typeof item === 'string' ? Math.max(1, Math.ceil(item.length / 4)) : item.length), 0);
  const promptTokens = behaviour.usage?.promptTokens ?? counted;
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = fakeEmbedding(input, dimensions);
      return { object: 'embedding', index, embedding: base64 ? vectorToBase64(vector) : Array.from(vector) };
    }),
    model,
    ...(behaviour.omitUsage === true ? {} : { usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }),
  };
}
