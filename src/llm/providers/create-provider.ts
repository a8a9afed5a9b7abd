import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import { GroundworkError } from '../../errors/groundwork-error.js';
import type { LlmProvider } from '../types.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { type AzureTokenProvider, createAzureProvider } from './azure/azure-provider.js';
import { createBedrockProvider } from './bedrock/bedrock-provider.js';
import { createGeminiProvider, type GeminiVertexOptions } from './gemini/gemini-provider.js';
import { createOpenAiProvider } from './openai/openai-provider.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.js';

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

/** Builds the adapter for `name` from the configuration; throws {@link LlmNotConfiguredError} when settings are missing. */
export function createProvider(name: LlmProviderName, config: AppConfig, options: CreateProviderOptions = {}): LlmProvider {
  const missing = missingProviderSettings(name, config, options);
  if (missing.length > 0) throw new LlmNotConfiguredError(name, missing);
  const llm = config.llm;
  const timeoutMs = config.resilience.timeoutMs;
  switch (name) {
    case 'openai':
      return createOpenAiProvider({
        apiKey: llm.openai.apiKey!,
        model: llm.openai.model,
        baseUrl: llm.openai.baseUrl,
        organization: llm.openai.organization,
        project: llm.openai.project,
        timeoutMs,
      });
    case 'openai-compatible':
      return createOpenAiCompatibleProvider({
        baseUrl: llm.openai.baseUrl!,
        model: llm.openai.model,
        apiKey: llm.openai.apiKey,
        timeoutMs,
      });
    case 'azure':
      return createAzureProvider({
        apiKey: options.azureTokenProvider === undefined ? llm.azure.apiKey : undefined,
        azureTokenProvider: options.azureTokenProvider,
        endpoint: llm.azure.endpoint!,
        deployment: llm.azure.deployment!,
        apiVersion: llm.azure.apiVersion,
        timeoutMs,
      });
    case 'anthropic':
      return createAnthropicProvider({
        apiKey: llm.anthropic.apiKey!,
        model: llm.anthropic.model,
        baseUrl: llm.anthropic.baseUrl,
        defaultMaxTokens: llm.maxOutputTokens,
        timeoutMs,
      });
    case 'gemini':
      return createGeminiProvider({
        apiKey: llm.gemini.apiKey,
        model: llm.gemini.model,
        baseUrl: llm.gemini.baseUrl,
        vertex: llm.gemini.vertexAi
          ? { project: llm.gemini.project!, location: llm.gemini.location!, googleAuthOptions: options.googleAuthOptions }
          : undefined,
        timeoutMs,
      });
    case 'bedrock': {
      const { accessKeyId, secretAccessKey, sessionToken } = llm.bedrock;
      return createBedrockProvider({
        model: llm.bedrock.model,
        region: llm.bedrock.region!,
        baseUrl: llm.bedrock.baseUrl,
        credentials:
          accessKeyId === undefined || secretAccessKey === undefined ? undefined : { accessKeyId, secretAccessKey, sessionToken },
        timeoutMs,
      });
    }
  }
}
