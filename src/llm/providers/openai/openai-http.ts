import type { UpstreamClient, UpstreamTarget } from '../../http/upstream-client.js';

/**
 * How an OpenAI-family provider reaches its server: the HTTP client with its connection pools,
 * the headers of the next request (credentials, organisation, project), and where each operation
 * goes (OpenAI's `/chat/completions`, Azure's `/deployments/{name}/chat/completions?api-version=…`).
 */
export interface OpenAiHttp {
  readonly client: UpstreamClient;
  /** Read before every request, so a rotated key or a fresh Entra token is used; may be a promise. */
  readonly headers: () => Record<string, string> | Promise<Record<string, string>>;
  /** Where chat completions with `model` go (on Azure, the deployment named by the model). */
  readonly chat: (model: string) => UpstreamTarget;
  readonly models: UpstreamTarget;
  /** Where embeddings with `model` go. */
  readonly embeddings: (model: string) => UpstreamTarget;
}

/** The headers every OpenAI-family request carries, besides its credentials. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/json',
  'user-agent': 'groundwork',
});

/**
 * The same target for every model (OpenAI and compatible servers take the model in the body): a
 * call works nothing out, as a served chat call should not.
 */
export function targetForEveryModel(target: UpstreamTarget): (model: string) => UpstreamTarget {
  return () => target;
}

/** Caches one target per model name (chat and embeddings on Azure go to a deployment named by the model). */
export function targetPerModel(build: (model: string) => UpstreamTarget): (model: string) => UpstreamTarget {
  const targets = new Map<string, UpstreamTarget>();
  return (model) => {
    let target = targets.get(model);
    if (target === undefined) {
      target = build(model);
      if (targets.size < 64) targets.set(model, target);
    }
    return target;
  };
}
