import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import type { AzureTokenProvider } from '../providers/azure/azure-provider.js';
import { LlmNotConfiguredError } from '../providers/provider-settings.js';

/** Where a provider keeps its Responses API, and how to authenticate there. */
export interface ResponsesUpstream {
  readonly provider: 'openai' | 'azure';
  /** The URL of `/responses` followed by `suffix` (`/{id}`), with any query the provider needs. */
  url(suffix?: string): string;
  /** The request headers: credentials (read at each call, so a rotated key is used at once) and organisation. */
  headers(): Promise<Record<string, string>>;
}

/** Whether `provider` has a Responses API Groundwork forwards to: OpenAI and Azure OpenAI. */
export function forwardsResponses(provider: LlmProviderName): provider is 'openai' | 'azure' {
  return provider === 'openai' || provider === 'azure';
}

/**
 * The Responses API of `provider` from the configuration: OpenAI at `OPENAI_BASE_URL` + `/responses`
 * (bearer key, organisation and project headers); Azure OpenAI at its v1 API,
 * `AZURE_OPENAI_ENDPOINT/openai/v1/responses` (`api-key`, or a bearer token from the token provider).
 */
export function responsesUpstream(
  config: AppConfig,
  provider: 'openai' | 'azure',
  azureTokenProvider?: AzureTokenProvider,
): ResponsesUpstream {
  if (provider === 'openai') {
    const settings = config.llm.openai;
    const base = (settings.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    return {
      provider,
      url: (suffix = '') => `${base}/responses${suffix}`,
      headers: async () => {
        const headers: Record<string, string> = {};
        const key = settings.apiKey?.reveal();
        if (key !== undefined && key !== '') headers['authorization'] = `Bearer ${key}`;
        if (settings.organization !== undefined) headers['openai-organization'] = settings.organization;
        if (settings.project !== undefined) headers['openai-project'] = settings.project;
        return headers;
      },
    };
  }
  const settings = config.llm.azure;
  const endpoint = settings.endpoint;
  if (endpoint === undefined) throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_ENDPOINT']);
  const base = `${endpoint.replace(/\/+$/, '')}/openai/v1/responses`;
  return {
    provider,
    url: (suffix = '') => `${base}${suffix}`,
    headers: async () => {
      if (azureTokenProvider !== undefined) return { authorization: `Bearer ${await azureTokenProvider()}` };
      const key = settings.apiKey?.reveal();
      if (key === undefined) throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_API_KEY']);
      return { 'api-key': key };
    },
  };
}
