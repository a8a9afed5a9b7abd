import { storedResponseRoute } from './stored-response-route.js';

/**
 * `GET /v1/responses/{id}/input_items`: a page of the items a stored response was made from, at the
 * upstream that holds it, found as `GET /v1/responses/{id}` finds it, with the caller's query
 * (`after`, `before`, `include`, `limit`, `order`) passed on as written; the upstream's list passed on.
 */
export const responseInputItemsRoute = storedResponseRoute('/input_items', (responses, id, { signal, query }) =>
  responses.listInputItems(id, { signal, query }),
);
