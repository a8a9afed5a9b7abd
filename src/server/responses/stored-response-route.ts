import { ResponseNotFoundError } from '../../llm/responses/response-not-found-error.js';
import { errorAnswer } from '../error-answer.js';
import type { Exchange } from '../exchange.js';
import { HttpError } from '../http-error.js';
import { sendJson } from '../respond.js';
import { parameterOf, routePath } from '../route-parameter.js';
import type { ServerContext } from '../server-context.js';
import { errorHeaders } from '../service-headers.js';
import { forCaller } from '../service-tenants.js';
import type { ServiceResponses } from './service-responses.js';

const PREFIX = '/v1/responses/';

/** What a request about one stored response asks of the Responses API, as the caller's key sees it. */
export type StoredResponseAction = (
  responses: ServiceResponses,
  id: string,
  request: { signal: AbortSignal; query: string },
) => Promise<unknown>;

/**
 * A route about one stored response, `/v1/responses/{id}` then `suffix` (`/cancel`,
 * `/input_items`): `action` runs on the caller's view of the backend (a virtual key asks only the
 * upstreams its models reach, a disabled team's keys are refused; nothing is charged) with the
 * caller's query, and its answer, the upstream's body, is sent as it is. An id no upstream has is
 * a 404 `response_not_found` naming the upstreams asked; with a provider that keeps no responses
 * (translated calls are not stored), a 404 `response_not_stored` that says so. The id is the
 * parameter the route matched ({@link parameterOf}: never empty; `//cancel` is `DELETE` or `GET` of
 * the id `/cancel`, a slash in an id being sent upstream encoded); an id that is `.` or `..` is a 400
 * `invalid_response_id`, nothing sent. An upstream's failure is
 * answered as any provider error, with `x-should-retry: false` when retrying cannot help or when a
 * cancel or delete was sent and never answered (its outcome unknown).
 */
export function storedResponseRoute(
  suffix: string,
  action: StoredResponseAction,
): (exchange: Exchange, context: ServerContext) => Promise<void> {
  return async (exchange, context) => {
    const target = exchange.request.url ?? '/';
    const url = new URL(target, 'http://service');
    // The raw path the route matched: the URL's own resolves dot segments (`%2e%2e`) away.
    const id = idOf(target.split('?', 1)[0]!, suffix);
    const responses = forCaller(exchange, context).backend.responses;
    if (responses === undefined || responses.mode !== 'forwarded') {
      throw new HttpError({
        status: 404,
        type: 'invalid_request_error',
        code: 'response_not_stored',
        param: 'response_id',
        message: `No response with id ${quoted(id)}: the provider ${responses?.provider ?? ''} has no Responses API, and translated responses are not stored.`,
      });
    }
    try {
      sendJson(exchange.response, 200, await action(responses, id, { signal: exchange.signal, query: url.search.slice(1) }));
    } catch (error) {
      if (ResponseNotFoundError.isInstance(error)) throw notFound(id, error);
      if (!exchange.response.headersSent) {
        for (const [name, value] of Object.entries(errorHeaders(error, errorAnswer(error, exchange.requestId), undefined))) {
          exchange.response.setHeader(name, value);
        }
      }
      throw error;
    }
  };
}

/**
 * The id in the raw `path`, as the route `/v1/responses/{id}` then `suffix` matched it: decoded
 * once, never empty. An id that is `.` or `..` names no response, and would name another path once
 * sent upstream: a 400 naming it.
 */
function idOf(path: string, suffix: string): string {
  // The route matched `path`, as findRoute reads it, so it has an id.
  const id = parameterOf({ path: `${PREFIX}{id}${suffix}` }, routePath(path)) as string;
  if (id === '.' || id === '..') {
    throw new HttpError({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_response_id',
      param: 'response_id',
      message: `The response id ${quoted(id)} names no response: an id must not be "." or "..".`,
    });
  }
  return id;
}

function notFound(id: string, error: ResponseNotFoundError): HttpError {
  const where =
    error.asked.length === 0
      ? 'any upstream: none that this key may reach keeps responses'
      : `any upstream asked (${error.asked.join(', ')})`;
  return new HttpError({
    status: 404,
    type: 'invalid_request_error',
    code: 'response_not_found',
    param: 'response_id',
    message: `No response with id ${quoted(id)} at ${where}.`,
  });
}

function quoted(id: string): string {
  return JSON.stringify(id.slice(0, 200));
}
