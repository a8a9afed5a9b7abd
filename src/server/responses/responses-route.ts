import { wantsCache } from '../../cache/resolve-cache-mode.js';
import { ResponsesCacheUnsupportedError } from '../../llm/responses/responses-cache-unsupported-error.js';
import type { ResponseStreamEvent, ResponsesEventStream } from '../../llm/responses/responses-types.js';
import { translatedResponse } from '../../llm/responses/translated-response.js';
import { CACHE_HEADER, readCacheOption } from '../cache-header.js';
import { errorAnswer } from '../error-answer.js';
import type { Exchange } from '../exchange.js';
import { HttpError } from '../http-error.js';
import { logFailure } from '../log-failure.js';
import { readJsonBody } from '../read-json-body.js';
import { sendJson } from '../respond.js';
import { ServerCallMetrics } from '../server-call-metrics.js';
import type { ServerContext } from '../server-context.js';
import { ATTEMPTS_HEADER, errorHeaders, rateLimitHeaders } from '../service-headers.js';
import { forCaller } from '../service-tenants.js';
import { SseWriter } from '../sse-writer.js';
import { parseResponsesBody } from './parse-responses-body.js';
import { serviceChatPort } from './service-chat-port.js';

/** Events that carry output, for the time-to-first-token metric. */
const OUTPUT_DELTAS = new Set(['response.output_text.delta', 'response.refusal.delta', 'response.function_call_arguments.delta']);

/**
 * `POST /v1/responses`: OpenAI's Responses API, whole or streamed as `response.*` events. With
 * OpenAI or Azure OpenAI upstream the body is forwarded whole (a virtual key's admission and
 * budgets applied around it, never cached: `X-Groundwork-Cache: use` or `refresh` is a 400 naming
 * it); otherwise it is translated to the provider's chat API through the
 * backend's own chat calls (a virtual key's budgets included),
 * and what cannot be translated is a 400 naming it (an answer field a `Response` has no place for
 * is left out, logged and counted). A failure before the first event gets its own
 * status (429 and 503 with `Retry-After`); after it, a final `error` event.
 */
export async function responsesRoute(exchange: Exchange, serverContext: ServerContext): Promise<void> {
  const started = performance.now();
  const context = forCaller(exchange, serverContext);
  const responses = context.backend.responses;
  if (responses === undefined) {
    throw new HttpError({ status: 404, type: 'not_found_error', message: 'This service does not offer the Responses API.' });
  }
  const body = parseResponsesBody(await readJsonBody(exchange.request, context.config.bodyLimitBytes));
  const metrics = new ServerCallMetrics(context.metrics, String(body['model']), started, 'responses');
  try {
    let result: Awaited<ReturnType<typeof responses.forward>>;
    if (responses.mode === 'forwarded') {
      // Forwarded calls are never cached: a caller asking for the cache is told so rather than
      // answered uncached without a word (SERVER_CACHE, the operator's default, is said not to apply at start).
      if (wantsCache(readCacheOption(exchange.request.headers[CACHE_HEADER]))) {
        throw new ResponsesCacheUnsupportedError(responses.provider, 'X-Groundwork-Cache');
      }
      // A virtual key's backend admits, bounds and settles the call (tenant-responses.ts).
      result = await responses.forward(body, { signal: exchange.signal, requestId: exchange.requestId });
    } else {
      // An OpenAI client does not expect caching: without its header, only the operator turns it on.
      const cache = readCacheOption(exchange.request.headers[CACHE_HEADER]) ?? (context.config.cache ? undefined : false);
      const chat = serviceChatPort(context.backend, { requestId: exchange.requestId, cache });
      const report = { logger: context.logger, metrics: context.metrics };
      result = await translatedResponse(body, responses.provider, chat, exchange.signal, report);
    }
    const headers = {
      ...rateLimitHeaders(result),
      [CACHE_HEADER]: result.cached ? 'hit' : 'miss',
      [ATTEMPTS_HEADER]: String(result.attempts),
    };
    if (!result.stream) {
      metrics.succeed(undefined);
      sendJson(exchange.response, 200, result.response, headers);
      return;
    }
    await streamEvents(exchange, context, result, headers, metrics);
    if (exchange.signal.aborted) metrics.fail('cancelled');
  } catch (error) {
    const answer = errorAnswer(error, exchange.requestId);
    metrics.fail(exchange.signal.aborted ? 'cancelled' : (answer.code ?? answer.type));
    if (!exchange.response.headersSent) {
      const headers = errorHeaders(error, answer, context.backend.attemptsOf?.(error));
      for (const [name, value] of Object.entries(headers)) exchange.response.setHeader(name, value);
    }
    throw error;
  }
}

/**
 * Writes the events; a failure after the first one ends the stream with an `error` event, as OpenAI's does.
 * A stream that ends with `response.completed` or `response.incomplete` is a success for the
 * metrics; one the upstream ends otherwise (`response.failed`, an `error` event) a failure, with
 * the error's code (else `upstream_failed`).
 */
async function streamEvents(
  exchange: Exchange,
  context: ServerContext,
  result: ResponsesEventStream,
  headers: Record<string, string>,
  metrics: ServerCallMetrics,
): Promise<void> {
  const iterator = result.events[Symbol.asyncIterator]();
  const writer = new SseWriter(exchange.response);
  writer.open(headers);
  let sequence = -1;
  let finished = false;
  /** The code of the upstream's failure event, when one came. */
  let failure: string | undefined;
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const event: ResponseStreamEvent = next.value;
      if (typeof event['sequence_number'] === 'number') sequence = event['sequence_number'];
      if (OUTPUT_DELTAS.has(event.type)) metrics.token();
      if (event.type === 'response.completed' || event.type === 'response.incomplete') metrics.succeed(outputTokens(event));
      else if (event.type === 'response.failed' || event.type === 'error') failure ??= failureCode(event);
      await writer.send(event, event.type);
      if (exchange.signal.aborted) return;
    }
    finished = true;
    // Recorded once: a no-op after a success.
    metrics.fail(failure ?? 'upstream_failed');
  } catch (error) {
    finished = true;
    if (exchange.signal.aborted) return;
    const answer = errorAnswer(error, exchange.requestId);
    metrics.fail(answer.code ?? answer.type);
    logFailure(context.logger, error, answer, exchange.requestId);
    await writer.send(
      { type: 'error', code: answer.code, message: answer.message, param: answer.param, sequence_number: sequence + 1 },
      'error',
    );
  } finally {
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
  writer.end();
}

/** The code of a `response.failed` event's error or of an `error` event, else `upstream_failed`. */
function failureCode(event: ResponseStreamEvent): string {
  const error = event.type === 'error' ? event : (event['response'] as { error?: unknown } | undefined)?.error;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : 'upstream_failed';
}

function outputTokens(event: ResponseStreamEvent): number | undefined {
  const usage = (event['response'] as { usage?: { output_tokens?: unknown } } | undefined)?.usage;
  return typeof usage?.output_tokens === 'number' ? usage.output_tokens : undefined;
}
