import type { ModelPrice } from '../config/app-config.js';

/**
 * List prices of common models, USD per million tokens. Keys match a model name exactly or as a
 * prefix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`; the longest key wins). Override or extend with
 * `LLM_PRICES`. Prices change: check the provider's page before relying on a cost.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60, cachedInput: 7.5 },
  'o1-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  // Embedding models: input tokens only.
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08 },
  'claude-3-opus': { input: 15, output: 75, cachedInput: 1.5 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cachedInput: 0.03 },
  // Google Gemini (Gemini API, standard tier; prompts up to 200k tokens). Output includes thinking.
  'gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.075 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'gemini-embedding-001': { input: 0.15, output: 0 },
  // AWS Bedrock on-demand (us-east-1); cross-region profiles (`us.`, `eu.`…) price as the model.
  'amazon.nova-micro': { input: 0.035, output: 0.14, cachedInput: 0.00875 },
  'amazon.nova-lite': { input: 0.06, output: 0.24, cachedInput: 0.015 },
  'amazon.nova-pro': { input: 0.8, output: 3.2, cachedInput: 0.2 },
  'anthropic.claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic.claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic.claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic.claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08 },
  'anthropic.claude-3-haiku': { input: 0.25, output: 1.25 },
  'meta.llama3-1-8b-instruct': { input: 0.22, output: 0.22 },
  'meta.llama3-1-70b-instruct': { input: 0.72, output: 0.72 },
  'mistral.mistral-large-2407': { input: 2, output: 6 },
  'amazon.titan-embed-text-v2': { input: 0.02, output: 0 },
  'amazon.titan-embed-text-v1': { input: 0.1, output: 0 },
  'cohere.embed-english-v3': { input: 0.1, output: 0 },
  'cohere.embed-multilingual-v3': { input: 0.1, output: 0 },
});
