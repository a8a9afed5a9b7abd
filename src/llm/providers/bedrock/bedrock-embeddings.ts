import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { EmbeddingRequest } from '../../embeddings/embedding-request.js';
import type { EmbeddingResponse } from '../../embeddings/embedding-response.js';
import { vectorFromWire } from '../../embeddings/vector-codec.js';
import { approximateEmbeddingTokens, embeddingTexts } from '../embedding-text-inputs.js';
import { providerError } from '../provider-error-factory.js';
import { mapBedrockError } from './bedrock-errors.js';

/** Titan requests (one text each) one embeddings call has in flight at once. */
const TITAN_CONCURRENCY = 8;

type InvokeModelCommandClass = typeof import('@aws-sdk/client-bedrock-runtime').InvokeModelCommand;

/** Whether `model` is one of Cohere's embedding models (several texts a request) rather than Titan's (one). */
function isCohere(model: string): boolean {
  return /(^|\.)cohere\.embed/.test(model);
}

async function invoke(
  client: BedrockRuntimeClient,
  Command: InvokeModelCommandClass,
  model: string,
  body: unknown,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  let output: { body?: Uint8Array };
  try {
    output = await client.send(
      new Command({ modelId: model, contentType: 'application/json', accept: 'application/json', body: JSON.stringify(body) }),
      { abortSignal: signal },
    );
  } catch (error) {
    throw mapBedrockError(error, { model, signal });
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(output.body ?? new Uint8Array()).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch (error) {
    throw providerError('malformed_response', 'the embeddings answer was not valid JSON', { provider: 'bedrock', model, cause: error });
  }
  throw providerError('malformed_response', 'the embeddings answer was not a JSON object', { provider: 'bedrock', model });
}

/**
 * Embeddings through `InvokeModel`: Cohere models (`cohere.embed-*`) take all texts in one request
 * (`input_type: search_document`); Titan models take one text a request, so one call sends one
 * request per input, eight at a time, and `dimensions` goes with each (Titan v2 shortens to 256, 512 or
 * 1024). Token usage is Titan's `inputTextTokenCount`; Cohere reports none, so it is estimated.
 */
export async function embedWithBedrock(
  client: BedrockRuntimeClient,
  Command: InvokeModelCommandClass,
  request: EmbeddingRequest,
  signal: AbortSignal,
): Promise<EmbeddingResponse> {
  const texts = embeddingTexts('bedrock', request.inputs);
  const where = { provider: 'bedrock', model: request.model };
  const malformed = () => providerError('malformed_response', 'an embedding is missing or malformed', where);
  if (isCohere(request.model)) {
    const answer = await invoke(client, Command, request.model, { texts, input_type: 'search_document' }, signal);
    const embeddings = answer['embeddings'];
    if (!Array.isArray(embeddings) || embeddings.length !== texts.length) throw malformed();
    const vectors = embeddings.map(
      (embedding) =>
        vectorFromWire(embedding) ??
        (() => {
          throw malformed();
        })(),
    );
    const promptTokens = approximateEmbeddingTokens(texts);
    return { provider: 'bedrock', model: request.model, vectors, usage: { promptTokens, totalTokens: promptTokens, estimated: true } };
  }
  const answers: Array<Record<string, unknown>> = [];
  for (let start = 0; start < texts.length; start += TITAN_CONCURRENCY) {
    const slice = texts.slice(start, start + TITAN_CONCURRENCY);
    const dimensions = request.dimensions === undefined ? {} : { dimensions: request.dimensions };
    answers.push(
      ...(await Promise.all(slice.map((inputText) => invoke(client, Command, request.model, { inputText, ...dimensions }, signal)))),
    );
  }
  let promptTokens = 0;
  let estimated = false;
  const vectors = answers.map((answer, index) => {
    const vector = vectorFromWire(answer['embedding']);
    if (vector === undefined) throw malformed();
    const counted = answer['inputTextTokenCount'];
    if (typeof counted !== 'number') estimated = true;
    promptTokens += typeof counted === 'number' ? counted : approximateEmbeddingTokens([texts[index] ?? '']);
    return vector;
  });
  const usage = { promptTokens, totalTokens: promptTokens, ...(estimated ? { estimated: true as const } : {}) };
  return { provider: 'bedrock', model: request.model, vectors, usage };
}
