import { AzureOpenAI } from 'openai';
import type { Secret } from '../../../config/secret.js';
import type { LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { OpenAiChatProvider } from '../openai/openai-chat.js';

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
  /** The deployment answering requests; it is also the model name Groundwork reports. */
  deployment: string;
  apiVersion: string;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
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

/**
 * The Azure OpenAI provider (`AzureOpenAI` from the official SDK, retries off). Requests go to
 * `/openai/deployments/{deployment}/chat/completions?api-version=…`, embeddings to
 * `/openai/deployments/{embedding deployment}/embeddings`; errors and usage are OpenAI's.
 */
export function createAzureProvider(options: AzureProviderOptions): LlmProvider {
  const common = {
    endpoint: options.endpoint,
    deployment: options.deployment,
    apiVersion: options.apiVersion,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 600_000,
    logLevel: 'off' as const,
  };
  const tokenProvider = options.azureTokenProvider;
  const apiKey = options.apiKey;
  // Embeddings go to their own deployment, which the SDK takes from the request's model when the client names none.
  const { deployment: _chat, ...withoutDeployment } = common;
  let client: () => AzureOpenAI;
  let embeddingClient: () => AzureOpenAI;
  if (tokenProvider !== undefined) {
    const shared = new AzureOpenAI({ ...common, azureADTokenProvider: tokenProvider });
    const embedding = new AzureOpenAI({ ...withoutDeployment, azureADTokenProvider: tokenProvider });
    client = () => shared;
    embeddingClient = () => embedding;
  } else if (apiKey !== undefined) {
    const clients = new KeyedClient((key) => new AzureOpenAI({ ...common, apiKey: key ?? '' }));
    const embeddingClients = new KeyedClient((key) => new AzureOpenAI({ ...withoutDeployment, apiKey: key ?? '' }));
    client = () => clients.get(apiKey.reveal());
    embeddingClient = () => embeddingClients.get(apiKey.reveal());
  } else {
    throw new Error('Azure OpenAI needs AZURE_OPENAI_API_KEY or a token provider (azureTokenProvider)');
  }
  return new OpenAiChatProvider({
    name: 'azure',
    defaultModel: options.deployment,
    client,
    dialect: { tokenField: azureTokenField(options.apiVersion), nativeJsonSchema: true, developerRole: true },
    embeddings: { client: embeddingClient, encoding: 'base64' },
  });
}
