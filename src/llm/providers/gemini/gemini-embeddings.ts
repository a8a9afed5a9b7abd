import type { GoogleGenAI } from '@google/genai';
import type { EmbeddingRequest } from '../../embeddings/embedding-request.js';
import type { EmbeddingResponse } from '../../embeddings/embedding-response.js';
import { vectorFromWire } from '../../embeddings/vector-codec.js';
import { approximateEmbeddingTokens, embeddingTexts } from '../embedding-text-inputs.js';
import { providerError } from '../provider-error-factory.js';
import { mapGeminiError } from './gemini-errors.js';

/**
 * One embeddings request through `embedContent` (the Gemini API's `:batchEmbedContents`, Vertex
 * AI's `:predict`), `dimensions` as `outputDimensionality`. Token usage is Vertex AI's
 * `statistics.tokenCount` where it reports it; the Gemini API reports none, so it is estimated
 * (four characters a token) for rate limits and cost.
 */
export async function embedWithGemini(client: GoogleGenAI, request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse> {
  const texts = embeddingTexts('gemini', request.inputs);
  const where = { provider: 'gemini', model: request.model };
  let answer: Awaited<ReturnType<GoogleGenAI['models']['embedContent']>>;
  try {
    answer = await client.models.embedContent({
      model: request.model,
      contents: texts,
      config: { abortSignal: signal, ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }) },
    });
  } catch (error) {
    throw mapGeminiError(error, { model: request.model, signal });
  }
  const embeddings = answer?.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length !== texts.length) {
    throw providerError('malformed_response', 'the answer does not hold one embedding per input', where);
  }
  let counted = 0;
  let reported = true;
  const vectors = embeddings.map((embedding) => {
    const vector = vectorFromWire(embedding?.values);
    if (vector === undefined) throw providerError('malformed_response', 'an embedding is missing or malformed', where);
    const tokens = embedding.statistics?.tokenCount;
    if (typeof tokens === 'number') counted += tokens;
    else reported = false;
    return vector;
  });
  if (reported) return { provider: 'gemini', model: request.model, vectors, usage: { promptTokens: counted, totalTokens: counted } };
  const promptTokens = approximateEmbeddingTokens(texts);
  return { provider: 'gemini', model: request.model, vectors, usage: { promptTokens, totalTokens: promptTokens, estimated: true } };
}
