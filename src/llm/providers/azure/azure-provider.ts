import type { Secret } from '../../../config/secret.js';
import { GroundworkError } from '../../../errors/groundwork-error.js';
import { UpstreamClient, upstreamTarget } from '../../http/upstream-client.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from '../openai/openai-chat.js';
import { JSON_HEADERS, targetPerModel } from '../openai/openai-http.js';
import { providerError } from '../provider-error-factory.js';

/** Returns a Microsoft Entra ID access token for Azure OpenAI; called before every request. */
export type AzureTokenProvider = () => Promise<string>;

/** Settings of the Azure OpenAI provider: a key or a token provider, not both. */
export interface AzureProviderOptions {
  /** Read at each call, so a rotated key is used on the next request. */
  apiKey?: Secret | undefined;
  /** Used instead of `apiKey` (managed identity, `@azure/identity`'s `getBearerTokenProvider`). */
  azureTokenProvider?: AzureTokenProvider | undefined;
  /** The resource endpoint, e.g. `https://my-resource.openai.azure.com`. */
  endpoint: string;
  /** The deployment answering chat requests that name no model; it is also the default model name Groundwork reports. */
  deployment: string;
  apiVersion: string;
  /** The HTTP client's own timeout (headers, then between body chunks), a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

/**
 * A token from the provider, or an `AuthenticationError` that says it could not be had and why (a
 * managed identity not found, a role not assigned): without a token nothing can be sent.
 */
async function entraToken(tokenProvider: AzureTokenProvider): Promise<string> {
  try {
    return await tokenProvider();
  } catch (error) {
    if (GroundworkError.isInstance(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw providerError('authentication', `could not get a Microsoft Entra ID token: ${why}`, {
      provider: 'azure',
      cause: error,
      advice: 'check the Entra ID credentials and their role on the Azure OpenAI resource',
    });
  }
}

/** The first API version that takes `max_completion_tokens` (which reasoning models require). */
const COMPLETION_TOKENS_SINCE = '2024-09-01';

/**
 * `max_completion_tokens` from API version 2024-09-01 (previews included) on, `max_tokens` before:
 * reasoning models refuse `max_tokens`, older API versions do not know the newer field.
 */
export function azureTokenField(apiVersion: string): 'max_completion_tokens' | 'max_tokens' {
  return apiVersion.slice(0, 10) >= COMPLETION_TOKENS_SINCE ? 'max_completion_tokens' : 'max_tokens';
}

/** The first API version that takes the `developer` role (2024-12-01-preview, with o1's other fields). */
const DEVELOPER_ROLE_SINCE = '2024-12-01';

/**
 * Whether API version `apiVersion` takes `developer` messages: from 2024-12-01-preview on (and the
 * unversioned `preview`/`latest` of the v1 API); earlier versions, GA 2024-10-21 included, answer
 * 400 "Invalid value: 'developer'", so `developer` messages go as `system` there.
 */
export function azureDeveloperRole(apiVersion: string): boolean {
  return !/^\d/.test(apiVersion) || apiVersion.slice(0, 10) >= DEVELOPER_ROLE_SINCE;
}

/**
 * The Azure OpenAI provider, over HTTP directly (no retries of its own). Chat requests go to
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`, where the deployment
 * is the request's model (a per-call or prompt `model`, a fallback's `azure:<deployment>`) or else
 * the configured one; embeddings to `/openai/deployments/{embedding deployment}/embeddings`, the
 * ping to `/openai/models`; the key travels in the `api-key` header, an Entra ID token (asked for
 * before every request) as `Authorization: Bearer`. Errors and usage are OpenAI's.
 */
export function createAzureProvider(options: AzureProviderOptions): LlmProvider {
  const tokenProvider = options.azureTokenProvider;
  const apiKey = options.apiKey;
  let headers: () => Record<string, string> | Promise<Record<string, string>>;
  if (tokenProvider !== undefined) {
    headers = async () => ({ ...JSON_HEADERS, authorization: `Bearer ${await entraToken(tokenProvider)}` });
  } else if (apiKey !== undefined) {
    const keyed = new KeyedClient((key) => Object.freeze({ ...JSON_HEADERS, 'api-key': key ?? '' }));
    headers = () => keyed.get(apiKey.reveal());
  } else {
    throw new Error('Azure OpenAI needs AZURE_OPENAI_API_KEY or a token provider (azureTokenProvider)');
  }
  const base = `${options.endpoint.replace(/\/+$/, '')}/openai`;
  const query = `api-version=${encodeURIComponent(options.apiVersion)}`;
  const deploymentPath = (name: string, operation: string) => {
    // `.` and `..` stay as they are once encoded, and would name another path at the endpoint.
    if (name === '.' || name === '..')
      throw providerError('bad_request', `"${name}" names no Azure deployment: a deployment name must not be "." or ".."`, {
        provider: 'azure',
        model: name,
      });
    return `/deployments/${encodeURIComponent(name)}/${operation}`;
  };
  return new OpenAiChatProvider({
    name: 'azure',
    defaultModel: options.deployment,
    http: {
      client: new UpstreamClient({ timeoutMs: options.timeoutMs }),
      headers,
      // Chat and embeddings go to the deployment the request's model names (the configured deployment by default).
      chat: targetPerModel((model) => upstreamTarget(base, deploymentPath(model, 'chat/completions'), query)),
      models: upstreamTarget(base, '/models', query),
      embeddings: targetPerModel((model) => upstreamTarget(base, deploymentPath(model, 'embeddings'), query)),
    },
    dialect: {
      tokenField: azureTokenField(options.apiVersion),
      nativeJsonSchema: true,
      developerRole: azureDeveloperRole(options.apiVersion),
      compatibleAnswerFields: false,
    },
    embeddings: { encoding: 'base64' },
  });
}
