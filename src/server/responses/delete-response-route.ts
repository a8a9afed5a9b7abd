import { storedResponseRoute } from './stored-response-route.js';

/**
 * `DELETE /v1/responses/{id}`: deletes a stored response at the upstream that holds it, found as
 * `GET /v1/responses/{id}` finds it; the upstream's answer (`{ id, object: 'response', deleted: true }`) passed on.
 */
export const deleteResponseRoute = storedResponseRoute('', (responses, id, { signal }) => responses.delete(id, { signal }));
