import type { Exchange } from './exchange.js';
import { sendJson } from './respond.js';
import type { ServerContext } from './server-context.js';

/** `GET /v1/models`: the models callers may name, in OpenAI's list shape. */
export async function modelsRoute(exchange: Exchange, context: ServerContext): Promise<void> {
  const models = await context.backend.listModels();
  sendJson(exchange.response, 200, {
    object: 'list',
    data: models.map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: model.ownedBy })),
  });
}
