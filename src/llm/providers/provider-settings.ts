import type { AppConfig } from '../../config/app-config.js';
import { LLM_PROVIDERS, type LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';
import type { AzureTokenProvider } from './azure/azure-provider.js';
import type { GeminiVertexOptions } from './gemini/gemini-provider.js';

// What a provider needs, apart from the adapters themselves: imports nothing but types, the provider names and the
// root error, so that checking settings, or failing for the lack of them, loads no adapter.

/** Extra inputs for building providers that do not come from the environment. */
export interface CreateProviderOptions {
  azureTokenProvider?: AzureTokenProvider | undefined;
  /** How Gemini on Vertex AI authenticates. @default application default credentials */
  googleAuthOptions?: GeminiVertexOptions['googleAuthOptions'];
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
    case 'gemini':
      if (llm.gemini.vertexAi) {
        return [
          ...(llm.gemini.project === undefined ? ['GOOGLE_CLOUD_PROJECT'] : []),
          ...(llm.gemini.location === undefined ? ['GOOGLE_CLOUD_LOCATION'] : []),
        ];
      }
      return llm.gemini.apiKey === undefined ? ['GEMINI_API_KEY'] : [];
    case 'bedrock':
      return llm.bedrock.region === undefined ? ['AWS_REGION'] : [];
  }
}

/** Whether any provider has the settings it needs: whether `createProvider` could build one at all. */
export function anyProviderConfigured(config: AppConfig, options: CreateProviderOptions = {}): boolean {
  return LLM_PROVIDERS.some((name) => missingProviderSettings(name, config, options).length === 0);
}

/**
 * Stands in for `createProvider` where {@link anyProviderConfigured} is false: every provider lacks a
 * setting, so each call throws the {@link LlmNotConfiguredError} `createProvider` would, without
 * loading an adapter.
 */
export function unconfiguredProvider(name: LlmProviderName, config: AppConfig, options: CreateProviderOptions = {}): never {
  const missing = missingProviderSettings(name, config, options);
  if (missing.length > 0) throw new LlmNotConfiguredError(name, missing);
  throw new TypeError(`The LLM provider "${name}" is configured, but its adapter was not loaded`);
}
