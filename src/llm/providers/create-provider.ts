import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';
import type { EmbedMethod } from '../embeddings/embed-method.js';
import { EmbeddingsUnsupportedError } from '../embeddings/embeddings-unsupported-error.js';
import type { ChatStreamEvent, LlmProvider } from '../types.js';
import type { AzureTokenProvider } from './azure/azure-provider.js';

/** Extra inputs for building providers that do not come from the environment. */
export interface CreateProviderOptions {
  azureTokenProvider?: AzureTokenProvider | undefined;
}

/** Thrown when a provider is used without the settings it needs; names the variables to set. */
export class LlmNotConfiguredError extends GroundworkError {
  readonly provider: LlmProviderName;
  readonly variables: readonly string[];

  constructor(provider: LlmProviderName, variables: readonly string[]) {
    super(
      'llm_not_configured',
      `The LLM provider "${provider}" is not configured: set ${variables.join(' and ')} (see \`groundwork doctor\`).`,
    );
    this.provider = provider;
    this.variables = variables;
  }
}

/** The variables `name` still needs in `config`; empty when it can be built. */
export function missingProviderSettings(name: LlmProviderName, config: AppConfig, options: CreateProviderOptions = {}): string[] {
  const llm = config.llm;
  switch (name) {
    case 'openai':
      return llm.openai.apiKey === undefined ? ['OPENAI_API_KEY'] : [];
    case 'anthropic':
      return llm.anthropic.apiKey === undefined ? ['ANTHROPIC_API_KEY'] : [];
    case 'openai-compatible':
      return llm.openai.baseUrl === undefined ? ['OPENAI_BASE_URL'] : [];
    case 'azure':
      return [
        ...(llm.azure.apiKey === undefined && options.azureTokenProvider === undefined ? ['AZURE_OPENAI_API_KEY'] : []),
        ...(llm.azure.endpoint === undefined ? ['AZURE_OPENAI_ENDPOINT'] : []),
        ...(llm.azure.deployment === undefined ? ['AZURE_OPENAI_DEPLOYMENT'] : []),
      ];
  }
}

/** Builds the adapter for `name` from the configuration; throws {@link LlmNotConfiguredError} when settings are missing. */
export function createProvider(name: LlmProviderName, config: AppConfig, options: CreateProviderOptions = {}): LlmProvider {
  const missing = missingProviderSettings(name, config, options);
  if (missing.length > 0) throw new LlmNotConfiguredError(name, missing);
  const llm = config.llm;
  const defaultModel = name === 'azure' ? llm.azure.deployment! : name === 'anthropic' ? llm.anthropic.model : llm.openai.model;
  return lazyProvider(name, defaultModel, () => loadProvider(name, config, options));
}

/**
 * A provider whose module (and SDK) is imported at its first call: importing Groundwork does not
 * load the SDKs of providers an application never calls (the Anthropic SDK alone takes ~150 ms).
 */
function lazyProvider(name: LlmProviderName, defaultModel: string, load: () => Promise<LlmProvider>): LlmProvider {
  let loaded: LlmProvider | undefined;
  let loading: Promise<LlmProvider> | undefined;
  const provider = (): Promise<LlmProvider> => {
    loading ??= load().then((created) => {
      loaded = created;
      return created;
    });
    return loading;
  };
  const embed: EmbedMethod = async (request, signal) => {
    const adapter = loaded ?? (await provider());
    if (adapter.embed === undefined) throw new EmbeddingsUnsupportedError(name);
    return adapter.embed(request, signal);
  };
  return {
    name,
    defaultModel,
    // Known without loading the module: only Anthropic lacks an embeddings API.
    ...(name === 'anthropic' ? {} : { embed }),
    unsupportedFields: async (request) => (loaded ?? (await provider())).unsupportedFields(request),
    complete: async (request, signal) => (loaded ?? (await provider())).complete(request, signal),
    async *stream(request, signal): AsyncIterable<ChatStreamEvent> {
      yield* (loaded ?? (await provider())).stream(request, signal);
    },
    ping: async (signal) => (loaded ?? (await provider())).ping(signal),
    close: async () => {
      await loaded?.close?.();
    },
  };
}

async function loadProvider(name: LlmProviderName, config: AppConfig, options: CreateProviderOptions): Promise<LlmProvider> {
  const llm = config.llm;
  const timeoutMs = config.resilience.timeoutMs;
  switch (name) {
    case 'openai': {
      const { createOpenAiProvider } = await import('./openai/openai-provider.js');
      return createOpenAiProvider({
        apiKey: llm.openai.apiKey!,
        model: llm.openai.model,
        baseUrl: llm.openai.baseUrl,
        organization: llm.openai.organization,
        project: llm.openai.project,
        timeoutMs,
      });
    }
    case 'openai-compatible': {
      const { createOpenAiCompatibleProvider } = await import('./openai-compatible/openai-compatible-provider.js');
      return createOpenAiCompatibleProvider({
        baseUrl: llm.openai.baseUrl!,
        model: llm.openai.model,
        apiKey: llm.openai.apiKey,
        timeoutMs,
      });
    }
    case 'azure': {
      const { createAzureProvider } = await import('./azure/azure-provider.js');
      return createAzureProvider({
        apiKey: options.azureTokenProvider === undefined ? llm.azure.apiKey : undefined,
        azureTokenProvider: options.azureTokenProvider,
        endpoint: llm.azure.endpoint!,
        deployment: llm.azure.deployment!,
        apiVersion: llm.azure.apiVersion,
        timeoutMs,
      });
    }
    case 'anthropic': {
      const { createAnthropicProvider } = await import('./anthropic/anthropic-provider.js');
      return createAnthropicProvider({
        apiKey: llm.anthropic.apiKey!,
        model: llm.anthropic.model,
        baseUrl: llm.anthropic.baseUrl,
        defaultMaxTokens: llm.maxOutputTokens,
        timeoutMs,
      });
    }
  }
}
