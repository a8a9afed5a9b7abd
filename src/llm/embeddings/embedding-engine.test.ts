import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { type CallPipeline, type CallTarget, directPipeline } from '../call-pipeline.js';
import { newTrace } from '../call-trace.js';
import { providerEnv, testConfig } from '../llm.test-helpers.js';
import { PriceBook } from '../pricing.js';
import { createProvider, LlmNotConfiguredError } from '../providers/create-provider.js';
import { EmbeddingEngine } from './embedding-engine.js';

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
