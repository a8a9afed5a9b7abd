/** A Responses API request body (OpenAI's `CreateResponse`), as the caller sent it. */
export type ResponsesBody = Record<string, unknown>;

/** A Responses API answer (OpenAI's `Response` object). */
export type ResponseObject = Record<string, unknown> & { id: string; object: 'response' };

/** One server-sent event of a streamed response (`response.created`, `response.output_text.delta`, …, or `error`). */
export type ResponseStreamEvent = Record<string, unknown> & { type: string };

/** How a Responses call reached its answer. */
export interface ResponsesCallFacts {
  /** Requests sent to providers, retries and fallbacks included (0 for a cache hit). */
  attempts: number;
  /** Whether the answer came from the response cache (translated calls only). */
  cached: boolean;
  /** The provider's `x-ratelimit-*` headers, where it sent them. */
  rateLimitHeaders?: Record<string, string>;
  /** Whether the call was forwarded as it is (OpenAI, Azure) or translated to the provider's chat API. */
  mode: 'forwarded' | 'translated';
  /** The deployment of a model group that answered (forwarded calls for a group only). */
  deployment?: string;
  /** The model that deployment was sent, by which the call is priced (with `deployment` only). */
  deploymentModel?: string;
}

/** A whole (unstreamed) response. */
export interface ResponsesAnswer extends ResponsesCallFacts {
  stream: false;
  response: ResponseObject;
}

/**
 * A streamed response whose first event has arrived (so a failure before it rejected the call):
 * the events in OpenAI's order. A failure after the first event (the connection lost, a timeout,
 * a malformed event, a provider error of a translated call) is thrown by the events' iterator;
 * only `groundwork serve` turns it into a final `error` event. An `error` or `response.failed`
 * event a forwarding upstream sends itself is passed on as an event.
 * Stop reading early with the iterator's `return()`, which cancels the upstream call.
 */
export interface ResponsesEventStream extends ResponsesCallFacts {
  stream: true;
  events: AsyncIterable<ResponseStreamEvent>;
}

/** What `respond` gives: a whole response, or its events. */
export type ResponsesResult = ResponsesAnswer | ResponsesEventStream;
