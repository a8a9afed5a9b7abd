import type { LlmProviderName } from '../../config/variables.js';
import type { ChatCompletion, ChatRequest, LogprobsDelta, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta } from '../types.js';
import { type AnswerFieldReport, answerExtras, reportDroppedAnswerFields } from './answer-extras.js';
import { onAbandon } from './on-abandon.js';
import { ResponseEventBuilder } from './response-event-builder.js';
import { ResponseEnvelope, responseFromCompletion } from './response-object.js';
import type { ResponseStreamEvent, ResponsesBody, ResponsesResult } from './responses-types.js';
import { toChatRequest } from './to-chat-request.js';

/** The start of a chat stream: how many attempts it took, and whether the cache answered. */
export interface ChatPortStart {
  type: 'start';
  attempts: number;
  cached: boolean;
  rateLimitHeaders?: Record<string, string>;
}

/** What a chat stream yields to the translation: a start, deltas, then the whole answer. */
export type ChatPortEvent =
  | ChatPortStart
  | TextDelta
  | RefusalDelta
  | ReasoningDelta
  | ToolCallDelta
  | LogprobsDelta
  | { type: 'done'; completion: ChatCompletion };

/**
 * The chat calls a translated response is made of: the library's client, or `serve`'s backend
 * (where a virtual key's budgets and limits wrap them). Both go through the whole call path.
 */
export interface ChatPort {
  complete(
    request: ChatRequest,
    signal: AbortSignal | undefined,
  ): Promise<{ completion: ChatCompletion; attempts: number; cached: boolean }>;
  stream(request: ChatRequest, signal: AbortSignal | undefined): AsyncIterable<ChatPortEvent>;
}

/**
 * Answers a Responses API request through a provider's chat API: translated (see
 * {@link toChatRequest}; what cannot be is refused before anything is sent), run through `chat`,
 * and the answer translated back to a `Response` or to its stream of events. An answer field a
 * `Response` has no place for (`audio`…) is left out of it, logged and counted through `report`.
 * A stream resolves once its first event arrived, so a failure before it (limits, breaker, the
 * provider's error) rejects; a failure after it is thrown by the events' iterator.
 */
export async function translatedResponse(
  body: ResponsesBody,
  provider: LlmProviderName,
  chat: ChatPort,
  signal?: AbortSignal,
  report: AnswerFieldReport = {},
): Promise<ResponsesResult> {
  const { request, stream } = toChatRequest(body, provider);
  const envelope = new ResponseEnvelope(body);
  if (!stream) {
    const { completion, attempts, cached } = await chat.complete(request, signal);
    const facts = { attempts, cached, mode: 'translated' as const };
    const rateLimits = completion.rateLimitHeaders === undefined ? {} : { rateLimitHeaders: completion.rateLimitHeaders };
    // Read once, for the report and the response both.
    const extras = answerExtras(completion);
    reportDroppedAnswerFields(completion, extras.dropped, report);
    return { stream: false, response: responseFromCompletion(envelope, completion, extras), ...facts, ...rateLimits };
  }
  const iterator = chat.stream(request, signal)[Symbol.asyncIterator]();
  let first = await iterator.next();
  let facts: Omit<ChatPortStart, 'type'> = { attempts: 0, cached: false };
  if (!first.done && first.value.type === 'start') {
    const { type: _start, ...rest } = first.value;
    facts = rest;
    first = await iterator.next();
  }
  const builder = new ResponseEventBuilder(envelope, request.model);
  async function* events(): AsyncGenerator<ResponseStreamEvent, void, undefined> {
    let finished = false;
    try {
      yield* builder.start();
      let next = first;
      while (!next.done) {
        const event = next.value;
        if (event.type === 'done') {
          const extras = answerExtras(event.completion);
          reportDroppedAnswerFields(event.completion, extras.dropped, report);
          yield* builder.finish(event.completion, extras);
        } else if (event.type !== 'start' && event.type !== 'logprobs-delta') yield* builder.push(event);
        next = await iterator.next();
      }
      finished = true;
    } finally {
      if (!finished) await iterator.return?.().catch(() => undefined);
    }
  }
  const abandon = async () => {
    await iterator.return?.().catch(() => undefined);
  };
  return { stream: true, events: onAbandon(events(), abandon), ...facts, mode: 'translated' };
}
