import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../../testing/fake-provider-server.js';
import { providerEnv, testConfig } from '../../llm.test-helpers.js';
import type { ChatStreamEvent } from '../../types.js';
import { createProvider } from '../create-provider.js';
import { azureDeveloperRole, azureTokenField } from './azure-provider.js';

describe('azureTokenField', () => {
  it.each([
    ['2024-06-01', 'max_tokens'],
    ['2024-08-01-preview', 'max_tokens'],
    ['2024-09-01-preview', 'max_completion_tokens'],
    ['2024-10-21', 'max_completion_tokens'],
    ['2025-04-01-preview', 'max_completion_tokens'],
  ])('API version %s takes %s', (version, field) => {
    expect(azureTokenField(version)).toBe(field);
  });
});

describe('azureDeveloperRole', () => {
  it.each([
    ['2024-06-01', false],
    ['2024-10-21', false],
    ['2024-10-01-preview', false],
    ['2024-12-01-preview', true],
    ['2025-04-01-preview', true],
    ['preview', true],
  ])('API version %s takes the developer role: %s', (version, takes) => {
    expect(azureDeveloperRole(version)).toBe(takes);
  });
});

describe('the Azure provider against the fake server', () => {
  let fake: FakeProviderServer;
  const signal = (): AbortSignal => new AbortController().signal;
  beforeEach(async () => {
    fake = await new FakeProviderServer().start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('sends chat, whole and streamed, to the deployment the request’s model names, else to the configured one', async () => {
    const provider = createProvider('azure', testConfig(providerEnv('azure', fake)));
    const messages = [{ role: 'user', content: 'Hi' }] as const;
    await provider.complete({ model: 'other-deploy', messages: [...messages] }, signal());
    for await (const _ of provider.stream({ model: 'other-deploy', messages: [...messages] }, signal()));
    await provider.complete({ model: '', messages: [...messages] }, signal());
    expect(fake.requests.map((request) => request.path)).toEqual([
      '/openai/deployments/other-deploy/chat/completions',
      '/openai/deployments/other-deploy/chat/completions',
      '/openai/deployments/prod-deploy/chat/completions',
    ]);
  });

  it('refuses a deployment named "." or "..", which would name another path at the endpoint, and sends nothing', async () => {
    const provider = createProvider('azure', testConfig(providerEnv('azure', fake)));
    for (const model of ['.', '..']) {
      const chat = provider.complete({ model, messages: [{ role: 'user', content: 'Hi' }] }, signal());
      await expect(chat).rejects.toMatchObject({ kind: 'bad_request', retryable: false, message: expect.stringContaining('deployment') });
      const streamed = (async () => {
        for await (const _ of provider.stream({ model, messages: [{ role: 'user', content: 'Hi' }] }, signal()));
      })();
      await expect(streamed).rejects.toMatchObject({ kind: 'bad_request' });
      await expect(provider.embed?.({ model, inputs: ['Hi'] }, signal())).rejects.toMatchObject({ kind: 'bad_request' });
    }
    expect(fake.requests).toEqual([]);
  });

  it('sends developer messages as system before API version 2024-12-01-preview, as developer from it on', async () => {
    const messages = [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ] as const;
    const roles = async (version: string | undefined): Promise<unknown> => {
      const env = { ...providerEnv('azure', fake), ...(version === undefined ? {} : { OPENAI_API_VERSION: version }) };
      await createProvider('azure', testConfig(env)).complete({ model: '', messages: [...messages] }, signal());
      const body = fake.requests.at(-1)?.body as { messages: Array<{ role: string }> };
      return body.messages.map((message) => message.role);
    };
    expect(await roles(undefined)).toEqual(['system', 'user']);
    expect(await roles('2024-10-21')).toEqual(['system', 'user']);
    expect(await roles('2024-12-01-preview')).toEqual(['developer', 'user']);
    expect(await roles('2025-04-01-preview')).toEqual(['developer', 'user']);
  });
});

describe('the Azure provider’s stream', () => {
  let fake: FakeProviderServer;
  beforeEach(async () => {
    fake = await new FakeProviderServer().start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('starts at the first chunk that names the answer, not at the prompt-filter chunk before it, with the model behind the deployment', async () => {
    const provider = createProvider('azure', testConfig(providerEnv('azure', fake)));
    fake.enqueue({
      type: 'answer',
      content: 'one two',
      chunks: 2,
      created: 1_700_000_000,
      promptFilterChunk: true,
      model: 'gpt-4o-2024-08-06',
    });
    const events: ChatStreamEvent[] = [];
    for await (const event of provider.stream({ model: '', messages: [{ role: 'user', content: 'Hi' }] }, new AbortController().signal)) {
      events.push(event);
    }
    const { answerId, answerCreated } = fake.requests[0] ?? {};
    expect(answerCreated).toBe(1_700_000_000);
    const starts = events.filter((event) => event.type === 'start');
    expect(starts).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'start', id: answerId, created: answerCreated, model: 'gpt-4o-2024-08-06' });
    expect(events.at(-1)).toMatchObject({ type: 'done', completion: { id: answerId, created: answerCreated, content: 'one two' } });
  });
});
