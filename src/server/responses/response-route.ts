import { HttpError } from '../http-error.js';
import { storedResponseRoute } from './stored-response-route.js';

/**
 * `GET /v1/responses/{id}`: a response an upstream keeps (OpenAI, Azure OpenAI), fetched with the
 * caller's query (`include[]=…`) from the one that made it, asking each upstream a forwarded call
 * could have gone to (the primary provider, its fallbacks, the model groups' deployments) until one
 * has it. A virtual key asks only the upstreams its models could reach. An id none has is a 404
 * naming the upstreams asked; with a provider that keeps no responses (translated calls are not
 * stored), a 404 that says so. `stream=true` (a background response's events replayed) is refused
 * with a 400 before anything is sent: the answer is relayed as one JSON object, and an event stream
 * would not be one.
 */
export const responseRoute = storedResponseRoute('', (responses, id, { signal, query }) => {
  const stream = new URLSearchParams(query).get('stream');
  if (stream !== null && stream !== 'false') {
    throw new HttpError({
      status: 400,
      type: 'invalid_request_error',
      code: 'unsupported_parameter',
      param: 'stream',
      message: `Retrieving a stored response as a stream (stream=${stream}) is not supported here; retrieve it without stream, and poll it while it runs.`,
    });
  }
  return responses.retrieve(id, { signal, query });
});
