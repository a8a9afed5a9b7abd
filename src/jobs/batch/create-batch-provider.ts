import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import { UpstreamClient } from '../../llm/http/upstream-client.js';
import { azureDeveloperRole, azureTokenField } from '../../llm/providers/azure/azure-provider.js';
import { JSON_HEADERS } from '../../llm/providers/openai/openai-http.js';
import { AnthropicBatchProvider } from './anthropic-batch-provider.js';
import { BatchUnsupportedError } from './batch-errors.js';
import type { BatchProvider } from './batch-provider.js';
import { OpenAiBatchProvider } from './openai-batch-provider.js';

/** The Anthropic API version every Message Batches request names. */
const ANTHROPIC_VERSION = '2023-06-01';

/**
 * The Batch API of `provider` from the configuration. Throws {@link BatchUnsupportedError} for a
 * provider without one (`openai-compatible`, `gemini`, `bedrock`) or without its settings.
 */
export function createBatchProvider(config: AppConfig, provider: LlmProviderName): BatchProvider {
  const llm = config.llm;
  // Uploads and result files are larger than one call: at least a minute between chunks.
  const client = () => new UpstreamClient({ timeoutMs: Math.max(60_000, config.resilience.timeoutMs) });
  const missing = (names: string[]) =>
    new BatchUnsupportedError(`A batch on ${provider} needs ${names.join(', ')}, which ${names.length === 1 ? 'is' : 'are'} not set`);
  switch (provider) {
    case 'openai': {
      const apiKey = llm.openai.apiKey;
      if (apiKey === undefined) throw missing(['OPENAI_API_KEY']);
      const fixed: Record<string, string> = { ...JSON_HEADERS };
      if (llm.openai.organization !== undefined) fixed['openai-organization'] = llm.openai.organization;
      if (llm.openai.project !== undefined) fixed['openai-project'] = llm.openai.project;
      return new OpenAiBatchProvider({
        name: 'openai',
        defaultModel: llm.openai.model,
        http: { client: client(), headers: () => ({ ...fixed, authorization: `Bearer ${apiKey.reveal() ?? ''}` }) },
        dialect: { tokenField: 'max_completion_tokens', nativeJsonSchema: true, developerRole: true, compatibleAnswerFields: false },
        baseUrl: llm.openai.baseUrl ?? 'https://api.openai.com/v1',
        endpoint: '/v1/chat/completions',
      });
    }
    case 'azure': {
      const { apiKey, endpoint, deployment, apiVersion } = llm.azure;
      const absent = [
        ...(apiKey === undefined ? ['AZURE_OPENAI_API_KEY'] : []),
        ...(endpoint === undefined ? ['AZURE_OPENAI_ENDPOINT'] : []),
        ...(deployment === undefined ? ['AZURE_OPENAI_DEPLOYMENT (a Global Batch deployment)'] : []),
      ];
      if (apiKey === undefined || endpoint === undefined || deployment === undefined) throw missing(absent);
      return new OpenAiBatchProvider({
        name: 'azure',
        defaultModel: deployment,
        http: { client: client(), headers: () => ({ ...JSON_HEADERS, 'api-key': apiKey.reveal() ?? '' }) },
        dialect: {
          tokenField: azureTokenField(apiVersion),
          nativeJsonSchema: true,
          developerRole: azureDeveloperRole(apiVersion),
          compatibleAnswerFields: false,
        },
        baseUrl: `${endpoint.replace(/\/+$/, '')}/openai`,
        query: `api-version=${encodeURIComponent(apiVersion)}`,
        endpoint: '/chat/completions',
      });
    }
    case 'anthropic': {
      const apiKey = llm.anthropic.apiKey;
      if (apiKey === undefined) throw missing(['ANTHROPIC_API_KEY']);
      return new AnthropicBatchProvider({
        defaultModel: llm.anthropic.model,
        http: {
          client: client(),
          headers: () => ({ ...JSON_HEADERS, 'x-api-key': apiKey.reveal() ?? '', 'anthropic-version': ANTHROPIC_VERSION }),
        },
        baseUrl: llm.anthropic.baseUrl ?? 'https://api.anthropic.com',
        defaultMaxTokens: llm.maxOutputTokens,
      });
    }
    default:
      throw new BatchUnsupportedError(
        `${provider} has no Batch API that Groundwork speaks (OpenAI, Azure OpenAI and Anthropic do): run the items as ordinary jobs with jobs.enqueue()`,
      );
  }
}
