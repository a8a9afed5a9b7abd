import type { CacheOption } from '../cache/resolve-cache-mode.js';
import { CACHE_HEADER, readCacheOption } from './cache-header.js';
import { toChatCompletionJson } from './chat-response.js';
import { ChunkBuilder } from './chunk-builder.js';
import { newCompletionIdentity, streamIdentity } from './completion-identity.js';
import { errorAnswer } from './error-answer.js';
import type { Exchange } from './exchange.js';
import { errorBody } from './http-error.js';
import { logFailure } from './log-failure.js';
import { type ParsedChatRequest, parseChatRequest } from './parse-chat-request.js';
import { readJsonBody } from './read-json-body.js';
import { sendJsonWithHeaders } from './respond.js';
import { ServerCallMetrics } from './server-call-metrics.js';
import type { ServerContext } from './server-context.js';
import type { ServiceStreamStart } from './service-backend.js';
import { ATTEMPTS_HEADER, errorHeaders, rateLimitHeaders } from './service-headers.js';
import { forCaller } from './service-tenants.js';
import { SseWriter } from './sse-writer.js';

/** What one chat request runs with, besides its body. */
interface ChatCall {
  parsed: ParsedChatRequest;
  /** The cache choice passed on: the caller's header, else the operator's `SERVER_CACHE`. */
  cache: CacheOption | undefined;
  metrics: ServerCallMetrics;
}

/** `POST /v1/chat/completions`: OpenAI's chat completions, whole or as server-sent events. */
export async function chatCompletionsRoute(exchange: Exchange, serverContext: ServerContext): Promise<void> {
  const started = performance.now();
  const context = forCaller(exchange, serverContext);
  // An OpenAI client does not expect caching: without its header, only the operator turns it on.
  const cache = readCacheOption(exchange.request.headers[CACHE_HEADER]) ?? (context.config.cache ? undefined : false);
  const parsed = parseChatRequest(await readJsonBody(exchange.request, context.config.bodyLimitBytes));
  const call: ChatCall = { parsed, cache, metrics: new ServerCallMetrics(context.metrics, parsed.request.model, started) };
  try {
    if (parsed.stream) await streamCompletion(exchange, context, call);
    else await completeOnce(exchange, context, call);
    // A caller that went away mid-stream ends the request without an answer.
    if (exchange.signal.aborted) call.metrics.fail('cancelled');
  } catch (error) {
    const answer = errorAnswer(error, exchange.requestId);
    call.metrics.fail(exchange.signal.aborted ? 'cancelled' : (answer.code ?? answer.type));
    if (!exchange.response.headersSent) {
      const headers = errorHeaders(error, answer, context.backend.attemptsOf?.(error));
      for (const [name, value] of Object.entries(headers)) exchange.response.setHeader(name, value);
    }
    throw error;
  }
}

async function completeOnce(exchange: Exchange, context: ServerContext, { parsed, cache, metrics }: ChatCall): Promise<void> {
  const { completion, cached, attempts } = await context.backend.complete(parsed.request, {
    signal: exchange.signal,
    requestId: exchange.requestId,
    ...(cache === undefined ? {} : { cache }),
  });
  metrics.succeed(undefined);
  // One object, made here and handed over: no spread of it into another.
  const headers: Record<string, string | number> = rateLimitHeaders(completion);
  headers[CACHE_HEADER] = cached ? 'hit' : 'miss';
  headers[ATTEMPTS_HEADER] = String(attempts);
  sendJsonWithHeaders(exchange.response, 200, toChatCompletionJson(newCompletionIdentity, completion), headers);
}

/**
 * Streams one answer. The first event is awaited before the status line is sent, so a refusal
 * (limits, breaker, provider error before any text) still gets its own status and `Retry-After`.
 * Every chunk carries the provider's answer id and creation time when the stream's start gave them
 * (a cached answer's own, replayed), as a whole answer does, else one fresh `chatcmpl-…` id.
 * A failure after that is sent as a final `data: {"error": …}` event, which OpenAI's SDKs raise.
 */
async function streamCompletion(exchange: Exchange, context: ServerContext, { parsed, cache, metrics }: ChatCall): Promise<void> {
  const iterator = context.backend
    .stream(parsed.request, { signal: exchange.signal, requestId: exchange.requestId, ...(cache === undefined ? {} : { cache }) })
    [Symbol.asyncIterator]();
  let finished = false;
  try {
    let next = await iterator.next();
    // The start says what the status line's headers need (the provider's rate limits, attempts,
    // cache) and the answer's id, when the provider named it, for every chunk.
    const headers: Record<string, string> = {};
    let start: ServiceStreamStart | undefined;
    if (!next.done && next.value.type === 'start') {
      start = next.value;
      Object.assign(headers, rateLimitHeaders(start), {
        [CACHE_HEADER]: start.cached ? 'hit' : 'miss',
        [ATTEMPTS_HEADER]: String(start.attempts),
      });
      next = await iterator.next();
    }
    const chunks = new ChunkBuilder(streamIdentity(start), parsed.request.model, parsed.includeUsage);
    const writer = new SseWriter(exchange.response);
    writer.open(headers);
    for (const chunk of chunks.start()) await writer.send(chunk);
    try {
      while (!next.done) {
        const event = next.value;
        if (event.type === 'done') metrics.succeed(event.completion.usage.completionTokens);
        else if (event.type !== 'logprobs-delta') metrics.token();
        for (const chunk of chunks.chunks(event)) {
          // Awaited only when the socket is full: one microtask per chunk otherwise, for nothing.
          const full = writer.send(chunk);
          if (full !== undefined) await full;
        }
        if (exchange.signal.aborted) return;
        next = await iterator.next();
      }
      finished = true;
      await writer.send('[DONE]');
    } catch (error) {
      finished = true;
      if (exchange.signal.aborted) return;
      const answer = errorAnswer(error, exchange.requestId);
      metrics.fail(answer.code ?? answer.type);
      logFailure(context.logger, error, answer, exchange.requestId);
      await writer.send(errorBody(answer));
    }
    writer.end();
  } finally {
    // Stops the upstream call when the caller went away or the first event failed; a failing
    // cleanup must not hide the error being handled, and the signal has already aborted the call.
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
}
