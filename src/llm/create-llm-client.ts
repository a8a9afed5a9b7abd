import type { AppConfig } from '../config/app-config.js';
import { type LlmClientDeps, openLlmClient } from './llm-client.js';
import type { LlmClient } from './llm-client-types.js';
import { createProvider } from './providers/create-provider.js';

/** Builds the LLM client. Providers are created on first use, so an unconfigured one fails only when called. */
export function createLlmClient(config: AppConfig, deps: LlmClientDeps): LlmClient {
  return openLlmClient(config, deps, createProvider);
}
