import { vectorToBase64 } from '../llm/embeddings/vector-codec.js';
import type { ServiceEmbedding } from './service-backend.js';

/** OpenAI's `CreateEmbeddingResponse`: the vectors as float arrays or base64 float32. */
export function toEmbeddingsJson(embedding: ServiceEmbedding, encoding: 'float' | 'base64') {
  return {
    object: 'list' as const,
    data: embedding.vectors.map((vector, index) => ({
      object: 'embedding' as const,
      index,
      embedding: encoding === 'base64' ? vectorToBase64(vector) : Array.from(vector),
    })),
    model: embedding.model,
    usage: { prompt_tokens: embedding.usage.promptTokens, total_tokens: embedding.usage.totalTokens },
  };
}
