import { storedResponseRoute } from './stored-response-route.js';

/**
 * `GET /v1/responses/{id}`: a response an upstream keeps (OpenAI, Azure OpenAI), fetched with the
 * caller's query (`include[]=…`) from the one that made it, asking each upstream a forwarded call
 * could have gone to (the primary provider, its fallbacks, the model groups' deployments) until one
 * has it. A virtual key asks only the upstreams its models could reach. An id none has is a 404
 * naming the upstreams asked; with a provider that keeps no responses (translated calls are not
 * stored), a 404 that says so.
 */
export const responseRoute = storedResponseRoute('', (responses, id, { signal, query }) => responses.retrieve(id, { signal, query }));
