import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingCache, embeddingCacheKey } from '../../cache/embedding-cache.js';
import { EMBEDDING_VECTOR_CODEC } from '../../cache/embedding-vector-codec.js';
import { MemoryCacheStore } from '../../cache/memory-cache-store.js';
import { silentLogger } from '../../observability/logger.js';
import { fakeEmbedding } from '../../testing/fake-embeddings.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { type CallPipeline, type CallTarget, directPipeline } from '../call-pipeline.js';
import { newTrace } from '../call-trace.js';
import { providerEnv, testConfig } from '../llm.test-helpers.js';
import { PriceBook } from '../pricing.js';
import { createProvider, LlmNotConfiguredError } from '../providers/create-provider.js';
import { EmbeddingEngine } from './embedding-engine.js';
import { embeddingModelKey } from './embedding-models.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());

/** A pipeline that tries the targets in order, one attempt each, and fails with the last error. */
const inOrder: CallPipeline = {
  async execute(plan, attempt) {
    let last: unknown;
    for (const target of plan.targets) {
      try {
        const result = await attempt({ target, attempt: 1, signal: new AbortController().signal });
        return { value: result.value, target, attempts: [] };
      } catch (error) {
        last = error;
      }
    }
    throw last;
  },
};

function engine(pipeline: CallPipeline, made: string[]) {
  const config = testConfig(providerEnv('openai', fake));
  const provider = createProvider('openai', config);
  const targets: CallTarget[] = [
    { provider: 'openai', model: 'all-minilm', group: 'embed', deployment: 'eu' },
    { provider: 'azure', model: 'embed-deploy', group: 'embed-azure', deployment: 'broken' },
  ];
  return new EmbeddingEngine({
    config,
    pipeline,
    prices: new PriceBook(),
    provider: () => provider,
    groupTargets: (model) => (model === 'embed' ? targets : undefined),
    deploymentProvider: (target) => {
      made.push(target.deployment ?? '');
      if (target.deployment === 'broken') throw new LlmNotConfiguredError('azure', ['AZURE_OPENAI_ENDPOINT']);
      return provider;
    },
  });
}

describe('EmbeddingEngine over a model group', () => {
  it('makes a deployment’s adapter only when an attempt goes to it, so one that cannot be made breaks no other', async () => {
    const made: string[] = [];
    const result = await engine(directPipeline, made).embed(['one', 'two'], { model: 'embed' }, newTrace('openai', 'embed'));
    expect(result).toMatchObject({ model: 'all-minilm', dimensions: 384 });
    expect(made).toEqual(['eu']);
  });

  it('fails an attempt sent to a deployment that cannot be made with its configuration error', async () => {
    const made: string[] = [];
    fake.setHandler(() => ({ type: 'error', status: 503 }));
    try {
      const error = await engine(inOrder, made)
        .embed(['one'], { model: 'embed' }, newTrace('openai', 'embed'))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmNotConfiguredError);
      expect(made).toEqual(['eu', 'broken']);
    } finally {
      fake.setHandler(undefined);
    }
  });
});

/** The per-input cache in memory, recording each read's keys (one read per model asked). */
class CountingCache extends EmbeddingCache {
  readonly reads: string[][] = [];

  constructor() {
    super({
      store: new MemoryCacheStore({ maxEntries: 1000, maxBytes: 10_000_000, codec: EMBEDDING_VECTOR_CODEC }),
      ttlMs: 60_000,
      logger: silentLogger(),
    });
  }

  override getMany(keys: readonly string[]) {
    this.reads.push([...keys]);
    return super.getMany(keys);
  }
}

describe('EmbeddingEngine and the per-input cache over fallback models', () => {
  const first: CallTarget = { provider: 'openai', model: 'all-minilm' };
  const second: CallTarget = { provider: 'openai', model: 'nomic-embed-text' };

  function cachedEngine(cache: EmbeddingCache) {
    const config = testConfig(providerEnv('openai', fake));
    const provider = createProvider('openai', config);
    return new EmbeddingEngine({
      config,
      pipeline: inOrder,
      prices: new PriceBook(),
      provider: () => provider,
      cache,
      groupTargets: (model) => (model === 'embed' ? [first, second] : undefined),
    });
  }

  it('reads only the first model’s cache when that model answers', async () => {
    const cache = new CountingCache();
    const result = await cachedEngine(cache).embed(['one', 'two'], { model: 'embed' }, newTrace('openai', 'embed'));
    expect(result).toMatchObject({ model: 'all-minilm', dimensions: 384 });
    expect(cache.reads).toEqual([['one', 'two'].map((text) => embeddingCacheKey(embeddingModelKey(first), undefined, text))]);
  });

  it('reads a fallback’s cache once it has answered, and never answers from the first model’s vectors', async () => {
    const cache = new CountingCache();
    // The first model has a vector of "one" only; the second of nothing.
    await cache.setMany([[embeddingCacheKey(embeddingModelKey(first), undefined, 'one'), fakeEmbedding('one', 384)]]);
    fake.setHandler((request) =>
      (request.body as { model?: string }).model === 'all-minilm' ? { type: 'error', status: 503 } : { type: 'answer' },
    );
    try {
      const result = await cachedEngine(cache).embed(['one', 'two'], { model: 'embed' }, newTrace('openai', 'embed'));
      expect(result.vectors).toEqual([fakeEmbedding('one', 768), fakeEmbedding('two', 768)]);
      expect(result.metadata.cachedInputs).toBe(0);
      const keysOf = (model: string) => ['one', 'two'].map((text) => embeddingCacheKey(model, undefined, text));
      expect(cache.reads).toEqual([keysOf(embeddingModelKey(first)), keysOf(embeddingModelKey(second))]);
    } finally {
      fake.setHandler(undefined);
    }
  });

  it('counts no cache hit for a repeated input the fallback answered in the same call', async () => {
    const cache = new CountingCache();
    fake.setHandler((request) =>
      (request.body as { model?: string }).model === 'all-minilm' ? { type: 'error', status: 503 } : { type: 'answer' },
    );
    try {
      const result = await cachedEngine(cache).embed(['two', 'two'], { model: 'embed' }, newTrace('openai', 'embed'));
      expect(result.vectors).toEqual([fakeEmbedding('two', 768), fakeEmbedding('two', 768)]);
      expect(result.metadata.cachedInputs).toBe(0);
      // What the fallback answered is still kept for the next call.
      const again = await cachedEngine(cache).embed(['two'], { model: 'nomic-embed-text' }, newTrace('openai', 'nomic-embed-text'));
      expect(again.metadata.cachedInputs).toBe(1);
    } finally {
      fake.setHandler(undefined);
    }
  });
});
