import { CACHE_HEADER, readCacheOption } from './cache-header.js';
import { toEmbeddingsJson } from './embeddings-response.js';
import { errorAnswer } from './error-answer.js';
import type { Exchange } from './exchange.js';
import { HttpError } from './http-error.js';
import { parseEmbeddingsRequest } from './parse-embeddings-request.js';
import { readJsonBody } from './read-json-body.js';
import { sendJson } from './respond.js';
import { ServerCallMetrics } from './server-call-metrics.js';
import type { ServerContext } from './server-context.js';
import { ATTEMPTS_HEADER, errorHeaders } from './service-headers.js';
import { forCaller } from './service-tenants.js';

/**
 * `POST /v1/embeddings`: OpenAI's embeddings, through the same auth, limits and errors as chat;
 * a virtual key's call is admitted, billed and settled against its budgets as a chat call is.
 * An embedding is deterministic, so the per-input cache is on whatever `SERVER_CACHE` says;
 * `X-Groundwork-Cache: bypass` skips it. The answer's `X-Groundwork-Cache` is `hit` when every
 * input came from the cache, `partial` when some did, `miss` otherwise.
 */
export async function embeddingsRoute(exchange: Exchange, serverContext: ServerContext): Promise<void> {
  const started = performance.now();
  const context = forCaller(exchange, serverContext);
  const cache = readCacheOption(exchange.request.headers[CACHE_HEADER]);
  const parsed = parseEmbeddingsRequest(await readJsonBody(exchange.request, context.config.bodyLimitBytes));
  const metrics = new ServerCallMetrics(context.metrics, parsed.model, started, 'embeddings');
  const embed = context.backend.embed;
  if (embed === undefined) {
    throw new HttpError({ status: 404, type: 'not_found_error', message: 'This service does not offer embeddings.' });
  }
  try {
    const embedding = await embed.call(context.backend, parsed.request, {
      signal: exchange.signal,
      requestId: exchange.requestId,
      ...(cache === undefined ? {} : { cache }),
    });
    metrics.succeed(undefined);
    const total = parsed.request.inputs.length;
    const hit = embedding.cachedInputs === total ? 'hit' : embedding.cachedInputs > 0 ? 'partial' : 'miss';
    sendJson(exchange.response, 200, toEmbeddingsJson({ ...embedding, model: embedding.model || parsed.model }, parsed.encoding), {
      [CACHE_HEADER]: hit,
      [ATTEMPTS_HEADER]: String(embedding.attempts),
    });
  } catch (error) {
    const answer = errorAnswer(error, exchange.requestId);
    metrics.fail(answer.code ?? answer.type);
    if (!exchange.response.headersSent) {
      const headers = errorHeaders(error, answer, context.backend.attemptsOf?.(error));
      for (const [name, value] of Object.entries(headers)) exchange.response.setHeader(name, value);
    }
    throw error;
  }
}
