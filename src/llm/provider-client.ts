import type { AppConfig } from '../config/app-config.js';
import type { LlmProviderName } from '../config/variables.js';
import type { LlmCallOptions, LlmClient, LlmCompleteRequest, LlmResponse, LlmStreamEvent } from './llm-client-types.js';
import type { Prompt, PromptContext } from './prompt.js';
import type { LlmProvider } from './types.js';

/**
 * The seed's `LLMClient` for one provider: its name, its model, and calls bound to it. Calls
 * still go through the cache, retries, breaker, limits and ledger, but never to a fallback.
 */
export interface ProviderClient {
  readonly provider: LlmProviderName;
  readonly model: string;
  /** The bare provider adapter — no retries, limits or ledger. For what Groundwork does not wrap. */
  readonly adapter: LlmProvider;
  executePrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: Omit<LlmCallOptions, 'provider'>,
  ): Promise<LlmResponse<Output>>;
  streamPrompt<Vars extends string, Output, Optional extends string>(
    prompt: Prompt<Vars, Output, Optional>,
    context: PromptContext<Vars, Optional>,
    options?: Omit<LlmCallOptions, 'provider'>,
  ): AsyncIterable<LlmStreamEvent<Output>>;
  complete(request: LlmCompleteRequest, options?: Omit<LlmCallOptions, 'provider'>): Promise<LlmResponse<undefined>>;
}

/** Binds `client` to `provider` (default: the configured primary). Throws `LlmNotConfiguredError` when it lacks settings. */
export function providerClient(config: AppConfig, client: LlmClient, provider: LlmProviderName = config.llm.provider): ProviderClient {
  const adapter = client.getProvider(provider);
  const bind = <O extends LlmCallOptions>(options: O | undefined): O => ({ ...(options ?? ({} as O)), provider });
  return {
    provider,
    model: adapter.defaultModel,
    adapter,
    executePrompt: (prompt, context, options) => client.executePrompt(prompt, context, bind(options)),
    streamPrompt: (prompt, context, options) => client.streamPrompt(prompt, context, bind(options)),
    complete: (request, options) => client.complete(request, bind(options)),
  };
}
