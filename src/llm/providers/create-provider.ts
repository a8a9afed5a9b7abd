import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import type { LlmProvider } from '../types.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { createAzureProvider } from './azure/azure-provider.js';
import { createBedrockProvider } from './bedrock/bedrock-provider.js';
import { createGeminiProvider } from './gemini/gemini-provider.js';
import { createOpenAiProvider } from './openai/openai-provider.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.js';
import { type CreateProviderOptions, LlmNotConfiguredError, missingProviderSettings } from './provider-settings.js';

export { type CreateProviderOptions, LlmNotConfiguredError, missingProviderSettings } from './provider-settings.js';

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
