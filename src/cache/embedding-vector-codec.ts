import { vectorFromBase64, vectorToBase64 } from '../llm/embeddings/vector-codec.js';
import type { CacheValueCodec } from './cache-store.js';
import { CorruptCacheEntryError } from './corrupt-cache-entry-error.js';

const PREFIX = 'f32:';

/** Stores an embedding vector as `f32:` and its little-endian float32 bytes in base64: a quarter of JSON's size. */
export const EMBEDDING_VECTOR_CODEC: CacheValueCodec<Float32Array> = {
  encode: (vector) => PREFIX + vectorToBase64(vector),
  decode(text) {
    if (!text.startsWith(PREFIX)) throw new CorruptCacheEntryError('not an embedding vector');
    const vector = vectorFromBase64(text.slice(PREFIX.length));
    if (vector.length === 0) throw new CorruptCacheEntryError('an empty embedding vector');
    return vector;
  },
};
