import { ResponseNotFoundError } from '../../llm/responses/response-not-found-error.js';
import type { Exchange } from '../exchange.js';
import { HttpError } from '../http-error.js';
import { sendJson } from '../respond.js';
import type { ServerContext } from '../server-context.js';
import { forCaller } from '../service-tenants.js';

const PREFIX = '/v1/responses/';

/**
 * `GET /v1/responses/{id}`: a response an upstream keeps (OpenAI, Azure OpenAI), fetched with the
 * caller's query (`include[]=…`) from the one that made it, asking each upstream a forwarded call
 * could have gone to (the primary provider, its fallbacks, the model groups' deployments) until one
 * has it. A virtual key asks only the upstreams its models could reach. An id none has is a 404
 * naming the upstreams asked; with a provider that keeps no responses (translated calls are not
 * stored), a 404 that says so.
 */
export async function responseRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const url = new URL(exchange.request.url ?? '/', 'http://service');
  const raw = url.pathname.replace(/\/$/, '').slice(PREFIX.length);
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  // A virtual key's backend asks only the upstreams its models reach (tenant-responses.ts).
  const responses = forCaller(exchange, context).backend.responses;
  if (responses === undefined || responses.mode !== 'forwarded') {
    throw new HttpError({
      status: 404,
      type: 'invalid_request_error',
      code: 'response_not_stored',
      param: 'response_id',
      message: `No response with id ${JSON.stringify(id.slice(0, 200))}: the provider ${responses?.provider ?? ''} has no Responses API, and translated responses are not stored.`,
    });
  }
  try {
    const response = await responses.retrieve(id, { signal: exchange.signal, query: url.search.slice(1) });
    sendJson(exchange.response, 200, response);
  } catch (error) {
    if (ResponseNotFoundError.isInstance(error)) {
      const where =
        error.asked.length === 0
          ? 'any upstream: none that this key may reach keeps responses'
          : `any upstream asked (${error.asked.join(', ')})`;
      throw new HttpError({
        status: 404,
        type: 'invalid_request_error',
        code: 'response_not_found',
        param: 'response_id',
        message: `No response with id ${JSON.stringify(id.slice(0, 200))} at ${where}.`,
      });
    }
    throw error;
  }
}
