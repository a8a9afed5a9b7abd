import { storedResponseRoute } from './stored-response-route.js';

/**
 * `POST /v1/responses/{id}/cancel`: cancels a background response at the upstream that holds it,
 * found as `GET /v1/responses/{id}` finds it; the upstream's answer (the response, `cancelled`) or
 * its refusal (OpenAI's 400 for a response not made in the background) passed on.
 */
export const cancelResponseRoute = storedResponseRoute('/cancel', (responses, id, { signal }) => responses.cancel(id, { signal }));
