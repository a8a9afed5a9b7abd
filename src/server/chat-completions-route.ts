import { CACHE_HEADER, readCacheOption } from './cache-header.js';
import { toChatCompletionJson, toChunkJson } from './chat-response.js';
import { newCompletionIdentity } from './completion-identity.js';
import { errorAnswer } from './error-answer.js';
import type { Exchange } from './exchange.js';
import { errorBody } from './http-error.js';
import { logFailure } from './log-failure.js';
import { type ParsedChatRequest, parseChatRequest } from './parse-chat-request.js';
import { readJsonBody } from './read-json-body.js';
import { sendJson } from './respond.js';
import type { ServerContext } from './server-context.js';
import { SseWriter } from './sse-writer.js';

/** `POST /v1/chat/completions`: OpenAI's chat completions, whole or as server-sent events. */
export async function chatCompletionsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const cache = readCacheOption(exchange.request.headers[CACHE_HEADER]);
  const parsed = parseChatRequest(await readJsonBody(exchange.request, context.config.bodyLimitBytes));
  if (parsed.stream) {
    await streamCompletion(exchange, context, parsed);
    return;
  }
  const { completion, cached } = await context.backend.complete(parsed.request, {
    signal: exchange.signal,
    requestId: exchange.requestId,
    ...(cache === undefined ? {} : { cache }),
  });
  sendJson(exchange.response, 200, toChatCompletionJson(newCompletionIdentity(), completion), {
    [CACHE_HEADER]: cached ? 'hit' : 'miss',
  });
}

/**
 * Streams one answer. The first event is awaited before the status line is sent, so a refusal
 * (limits, breaker, provider error before any text) still gets its own status and `Retry-After`.
 * A failure after that is sent as a final `data: {"error": …}` event, which OpenAI's SDKs raise.
 */
async function streamCompletion(exchange: Exchange, context: ServerContext, parsed: ParsedChatRequest): Promise<void> {
  const iterator = context.backend
    .stream(parsed.request, { signal: exchange.signal, requestId: exchange.requestId })
    [Symbol.asyncIterator]();
  let finished = false;
  try {
    let next = await iterator.next();
    const identity = newCompletionIdentity();
    const writer = new SseWriter(exchange.response);
    writer.open({});
    let model = parsed.request.model;
    await writer.send(toChunkJson(identity, model, { kind: 'role' }, parsed.includeUsage));
    try {
      while (!next.done) {
        const event = next.value;
        if (event.type === 'delta') {
          if (event.text !== '') await writer.send(toChunkJson(identity, model, { kind: 'delta', text: event.text }, parsed.includeUsage));
        } else if (event.type === 'done') {
          model = event.completion.model;
          await writer.send(toChunkJson(identity, model, { kind: 'finish', reason: event.completion.finishReason }, parsed.includeUsage));
          if (parsed.includeUsage) await writer.send(toChunkJson(identity, model, { kind: 'usage', usage: event.completion.usage }, true));
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
