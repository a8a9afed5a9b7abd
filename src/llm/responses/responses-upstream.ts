import { createHash } from 'node:crypto';
import type { AppConfig } from '../../config/app-config.js';
import type { LlmProviderName } from '../../config/variables.js';
import { type UpstreamTarget, upstreamTarget } from '../http/upstream-client.js';
import type { AzureTokenProvider } from '../providers/azure/azure-provider.js';
import { KeyedClient } from '../providers/keyed-client.js';
import { LlmNotConfiguredError } from '../providers/provider-settings.js';

/** Where a provider keeps its Responses API, and how to authenticate there. */
export interface ResponsesUpstream {
  readonly provider: 'openai' | 'azure';
  /** `/responses` followed by `suffix` (`/{id}`) and `query` (without `?`), with any query the provider needs. */
  target(suffix?: string, query?: string): UpstreamTarget;
  /** The request headers: credentials (read at each call, so a rotated key is used at once) and organisation. */
  headers(): Record<string, string> | Promise<Record<string, string>>;
  /**
   * What makes two upstreams one, read without fetching a token: where the API is, and the
   * credentials and organisation sent there as a digest only, so that no key is held.
   */
  identity(): string;
}

/** Whether `provider` has a Responses API Groundwork forwards to: OpenAI and Azure OpenAI. */
export function forwardsResponses(provider: LlmProviderName): provider is 'openai' | 'azure' {
  return provider === 'openai' || provider === 'azure';
}

/** What every forwarded request carries besides its credentials. */
const FORWARD_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'user-agent': 'groundwork',
});

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
    // `…/v1` and `…/v1/` are one upstream: one identity, and the same URLs.
    const base = (settings.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    const fixed: Record<string, string> = { ...FORWARD_HEADERS };
    if (settings.organization !== undefined) fixed['openai-organization'] = settings.organization;
    if (settings.project !== undefined) fixed['openai-project'] = settings.project;
    const keyed = new KeyedClient((key) =>
      Object.freeze(key === undefined || key === '' ? { ...fixed } : { ...fixed, authorization: `Bearer ${key}` }),
    );
    return {
      provider,
      target: targets(base),
      headers: () => keyed.get(settings.apiKey?.reveal()),
      identity: () => `${base} ${digest([fixed['openai-organization'], fixed['openai-project'], settings.apiKey?.reveal()])}`,
    };
  }
  const settings = config.llm.azure;
  const endpoint = settings.endpoint;
  if (endpoint === undefined) throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_ENDPOINT']);
  const keyed = new KeyedClient((key) => Object.freeze({ ...FORWARD_HEADERS, 'api-key': key ?? '' }));
  const base = `${endpoint.replace(/\/+$/, '')}/openai/v1`;
  return {
    provider,
    target: targets(base),
    identity: () =>
      azureTokenProvider === undefined
        ? `${base} ${digest([settings.apiKey?.reveal()])}`
        : `${base} token provider ${tokenProviderNumber(azureTokenProvider)}`,
    headers: async () => {
      if (azureTokenProvider !== undefined) return { ...FORWARD_HEADERS, authorization: `Bearer ${await azureTokenProvider()}` };
      const key = settings.apiKey?.reveal();
      if (key === undefined) throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_API_KEY']);
      return keyed.get(key);
    },
  };
}

/** A digest of credentials and the like, so that an identity holds no key. */
function digest(parts: ReadonlyArray<string | undefined>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

const tokenProviders = new WeakMap<AzureTokenProvider, number>();
let tokenProvidersNumbered = 0;

/** A number for each Azure token provider: upstreams that share one send the same tokens. */
function tokenProviderNumber(provider: AzureTokenProvider): number {
  let number = tokenProviders.get(provider);
  if (number === undefined) {
    number = tokenProvidersNumbered++;
    tokenProviders.set(provider, number);
  }
  return number;
}

/** The targets under `base`: `/responses` itself made once, retrievals by id as they come. */
function targets(base: string): ResponsesUpstream['target'] {
  const create = upstreamTarget(base, '/responses');
  return (suffix = '', query) => (suffix === '' && query === undefined ? create : upstreamTarget(base, `/responses${suffix}`, query));
}
