import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../../config/secret.js';
import { FakeProviderServer } from '../../../testing/fake-provider-server.js';
import * as upstream from '../../http/upstream-client.js';
import { createOpenAiCompatibleProvider } from '../openai-compatible/openai-compatible-provider.js';
import { createOpenAiProvider } from './openai-provider.js';

vi.mock('../../http/upstream-client.js', async (original) => {
  const actual = await original<typeof import('../../http/upstream-client.js')>();
  return { ...actual, upstreamTarget: vi.fn(actual.upstreamTarget) };
});

/* OpenAI and compatible servers take every model at one URL: a call works out no target of its own. */

describe('the chat target of OpenAI and compatible servers', () => {
  let fake: FakeProviderServer;
  beforeAll(async () => {
    fake = await new FakeProviderServer().start();
  });
  afterAll(() => fake.close());

  it.each([
    ['OpenAI', () => createOpenAiProvider({ apiKey: new Secret('OPENAI_API_KEY', 'sk-target'), model: 'm', baseUrl: fake.openaiBaseUrl })],
    ['a compatible server', () => createOpenAiCompatibleProvider({ baseUrl: fake.openaiBaseUrl, model: 'm' })],
  ])('%s: is worked out once, however many models the calls name', async (_name, create) => {
    const provider = create();
    const built = vi.mocked(upstream.upstreamTarget);
    built.mockClear();
    for (let model = 0; model < 80; model++) {
      const answer = await provider.complete(
        { model: `model-${model}`, messages: [{ role: 'user', content: 'hi' }] },
        new AbortController().signal,
      );
      expect(answer.content).not.toBe(undefined);
    }
    const chatTargets = built.mock.calls.filter(([, path]) => path === '/chat/completions');
    expect(chatTargets.length).toBeLessThanOrEqual(1);
    await provider.close?.();
  });
});
