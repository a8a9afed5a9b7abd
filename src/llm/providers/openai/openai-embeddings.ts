import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { LlmProviderName } from '../../../config/variables.js';
import type { EmbeddingRequest } from '../../embeddings/embedding-request.js';
import type { EmbeddingResponse, EmbeddingUsage } from '../../embeddings/embedding-response.js';
import { vectorFromWire } from '../../embeddings/vector-codec.js';
import { approximateEmbeddingTokens } from '../embedding-text-inputs.js';
import { providerError } from '../provider-error-factory.js';
import { mapOpenAiError } from './openai-errors.js';
import type { OpenAiHttp } from './openai-http.js';

/** How an OpenAI-family server is asked for embeddings. */
export interface OpenAiEmbeddingsOptions {
  provider: LlmProviderName;
  /** How requests reach the server. */
  http: OpenAiHttp;
  /**
   * `base64` (OpenAI, Azure: a quarter of the bytes, decoded straight into a `Float32Array`) or
   * `float` (compatible servers, not all of which know base64).
   */
  encoding: 'base64' | 'float';
}

/** Sends one embeddings request (`POST /embeddings`) and reads its vectors back in input order. */
export async function embedWithOpenAi(
  options: OpenAiEmbeddingsOptions,
  request: EmbeddingRequest,
  signal: AbortSignal,
): Promise<EmbeddingResponse> {
  const where = { provider: options.provider, model: request.model };
  const input = request.inputs.every((item) => typeof item === 'string')
    ? (request.inputs as string[])
    : request.inputs.map((item) => (typeof item === 'string' ? item : [...item]));
  const params = {
    model: request.model,
    input: input as string[] | number[][],
    encoding_format: options.encoding,
    ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    ...(request.user === undefined ? {} : { user: request.user }),
  };
  const http = options.http;
  let answer: { data: CreateEmbeddingResponse | null; requestId: string | undefined };
  try {
    const sent = await http.client.json(http.embeddings(request.model), 'POST', await http.headers(), JSON.stringify(params), signal);
    answer = { data: sent.data as CreateEmbeddingResponse | null, requestId: sent.requestId };
  } catch (error) {
    throw mapOpenAiError(error, { ...where, signal });
  }
  const requestId = answer.requestId;
  const items: unknown = answer.data?.data;
  const malformed = (problem: string) =>
    providerError('malformed_response', problem, { ...where, ...(requestId === undefined ? {} : { requestId }) });
  if (!Array.isArray(items) || items.length !== request.inputs.length) throw malformed('the answer does not hold one embedding per input');
  const vectors = new Array<Float32Array>(items.length);
  for (const [position, item] of (items as Array<{ index?: unknown; embedding?: unknown }>).entries()) {
    const index = typeof item.index === 'number' ? item.index : position;
    const vector = vectorFromWire(item.embedding);
    if (vector === undefined || index < 0 || index >= vectors.length || vectors[index] !== undefined) {
      throw malformed('an embedding is missing, malformed or out of place');
    }
    vectors[index] = vector;
  }
  const data = answer.data as CreateEmbeddingResponse;
  const usage = data.usage as CreateEmbeddingResponse['usage'] | undefined;
  return {
    provider: options.provider,
    model: typeof data.model === 'string' && data.model !== '' ? data.model : request.model,
    vectors,
    usage:
      typeof usage?.prompt_tokens === 'number'
        ? {
            promptTokens: usage.prompt_tokens,
            totalTokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : usage.prompt_tokens,
          }
        : estimatedUsage(request.inputs),
    requestId,
  };
}

/** The usage of an answer that reported none (some OpenAI-compatible servers send no `usage`): estimated, not read as free. */
function estimatedUsage(inputs: EmbeddingRequest['inputs']): EmbeddingUsage {
  const promptTokens = approximateEmbeddingTokens(inputs);
  return { promptTokens, totalTokens: promptTokens, estimated: true };
}
