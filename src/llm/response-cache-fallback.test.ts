import { describe, expect, it } from 'vitest';
import { MemoryCacheStore } from '../cache/memory-cache-store.js';
import type { CacheLookup, CacheMode, ResponseCache, SharedCompute } from '../cache/response-cache.js';
import { StoreResponseCache } from '../cache/store-response-cache.js';
import type { LlmProviderName } from '../config/variables.js';
import { createResiliencePipeline } from '../resilience/create-resilience-pipeline.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, testConfig } from './llm.test-helpers.js';
import type { LlmStreamEvent } from './llm-client-types.js';
import { completionOf } from './model/completion-of.js';
import { providerError } from './providers/provider-error-factory.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from './types.js';

/** A provider double that answers every request with `content`, or fails while `down`. */
class Answering implements LlmProvider {
  readonly requests: ChatRequest[] = [];
  down = false;

  constructor(
    readonly name: LlmProviderName,
    readonly defaultModel: string,
    readonly content: string,
  ) {}

  unsupportedFields(): string[] {
    return [];
  }

  async complete(request: ChatRequest): Promise<ChatCompletion> {
    this.requests.push(request);
    if (this.down) throw providerError('server_error', 'the provider is down', { provider: this.name, model: request.model });
    return completionOf({
      provider: this.name,
      model: request.model,
      choices: [{ index: 0, message: { content: this.content }, finishReason: 'stop' }],
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    });
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatStreamEvent> {
    const completion = await this.complete(request);
    yield { type: 'delta', text: completion.content };
    yield { type: 'done', completion };
  }

  async ping(): Promise<void> {}
}

/** An application's own cache, written to the interface alone: it stores whatever its compute returns. */
class PlainCache implements ResponseCache {
  readonly entries = new Map<string, Awaited<ReturnType<SharedCompute>>>();

  async getOrCompute(key: string, compute: SharedCompute, mode: CacheMode): Promise<CacheLookup> {
    const cached = mode === 'use' ? this.entries.get(key) : undefined;
    if (cached !== undefined) return { completion: cached, hit: true };
    const completion = await compute(undefined);
    if (mode !== 'bypass') this.entries.set(key, completion);
    return { completion, hit: false };
  }

  async close(): Promise<void> {}
}

function setup(cache?: ResponseCache) {
  const primary = new Answering('openai', 'gpt-4o-mini', 'from the primary');
  const fallback = new Answering('anthropic', 'claude-3-5-haiku-latest', 'from the fallback');
  const { logger, lines } = capturingLogger();
  const config = testConfig({
    OPENAI_API_KEY: 'sk-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    LLM_FALLBACKS: 'anthropic:claude-3-5-haiku-latest',
    LLM_MAX_ATTEMPTS: '1',
  });
  cache ??= new StoreResponseCache({ store: new MemoryCacheStore({ maxEntries: 10, maxBytes: 1e6 }), ttlMs: 3_600_000, logger });
  const client = createLlmClient(config, {
    logger,
    providers: { openai: primary, anthropic: fallback },
    cache,
    pipeline: createResiliencePipeline(config.resilience, { logger }),
  });
  return { client, primary, fallback, lines };
}

const request = { messages: [{ role: 'user' as const, content: 'What is the capital of France?' }], temperature: 0 };

describe('the response cache and fallbacks', () => {
  it('does not keep a fallback’s answer under the primary’s key: once the primary is back, the next call reaches it', async () => {
    const { client, primary, fallback, lines } = setup();
    primary.down = true;
    const first = await client.complete(request);
    expect([first.content, first.metadata.provider, first.metadata.cached]).toEqual(['from the fallback', 'anthropic', false]);
    expect(lines.some((line) => line.includes('not cached'))).toBe(true);

    primary.down = false;
    const second = await client.complete(request);
    expect([second.content, second.metadata.provider, second.metadata.cached]).toEqual(['from the primary', 'openai', false]);
    const third = await client.complete(request);
    expect([third.content, third.metadata.cached]).toEqual(['from the primary', true]);
    expect(primary.requests).toHaveLength(2);
    expect(fallback.requests).toHaveLength(1);
    await client.close();
  });

  it('does not keep a streamed fallback’s answer either', async () => {
    const { client, primary } = setup();
    const read = async () => {
      let done: Extract<LlmStreamEvent<undefined>, { type: 'done' }> | undefined;
      for await (const event of client.stream(request)) if (event.type === 'done') done = event;
      return done?.response;
    };
    primary.down = true;
    expect((await read())?.content).toBe('from the fallback');
    primary.down = false;
    const second = await read();
    expect([second?.content, second?.metadata.cached]).toEqual(['from the primary', false]);
    await client.close();
  });

  it('hands a cache of the application’s own, which knows nothing of fallbacks, a plain answer it can keep and give back', async () => {
    const cache = new PlainCache();
    const { client, primary } = setup(cache);
    primary.down = true;
    const first = await client.complete(request);
    expect([first.content, first.metadata.provider, first.metadata.cached]).toEqual(['from the fallback', 'anthropic', false]);
    const [kept] = cache.entries.values();
    expect(kept?.content).toBe('from the fallback');
    const second = await client.complete(request);
    expect([second.content, second.metadata.provider, second.metadata.cached]).toEqual(['from the fallback', 'anthropic', true]);
    await client.close();
  });
});
