import type { Exchange } from './exchange.js';
import { HttpError } from './http-error.js';
import { sendJson } from './respond.js';
import type { ServerContext } from './server-context.js';
import type { ServiceModel } from './service-backend.js';

/** `GET /v1/models`: the models callers may name, in OpenAI's list shape. */
export async function modelsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const models = await context.backend.listModels();
  sendJson(exchange.response, 200, { object: 'list', data: models.map(toModelJson) });
}

/** `GET /v1/models/{model}`: one model, or 404 in OpenAI's error shape when the service does not offer it. */
export async function modelRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const id = modelIdOf(exchange.request.url ?? '');
  const model = (await context.backend.listModels()).find((candidate) => candidate.id === id);
  if (model === undefined) {
    throw new HttpError({
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      message: `The model ${JSON.stringify((id ?? '').slice(0, 200))} does not exist or this service does not offer it; GET /v1/models lists those it does.`,
    });
  }
  sendJson(exchange.response, 200, toModelJson(model));
}

const MODEL_PATH_PREFIX = '/v1/models/';

/** The model id in `/v1/models/{model}` (percent-decoded, trailing slash ignored). */
function modelIdOf(url: string): string | undefined {
  const path = url.split('?')[0] ?? '';
  const id = path.slice(MODEL_PATH_PREFIX.length).replace(/\/$/, '');
  try {
    return decodeURIComponent(id);
  } catch {
    return undefined;
  }
}

function toModelJson(model: ServiceModel) {
  return { id: model.id, object: 'model' as const, created: 0, owned_by: model.ownedBy };
}
