import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { ManualClock } from '../testing/manual-clock.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, providerEnv, rejection, testConfig } from './llm.test-helpers.js';
import type { UsageRecord } from './usage-record.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('a streamed call and the call deadline (LLM_DEADLINE_MS)', () => {
  it('ends a stream that stalls after its first delta at the deadline, not the idle timeout, and records its partial usage', async () => {
    const clock = new ManualClock();
    const rows: UsageRecord[] = [];
    const llm = createLlmClient(
      testConfig({ ...providerEnv('openai', fake), LLM_DEADLINE_MS: '3000', LLM_STREAM_IDLE_TIMEOUT_MS: '8000' }),
      { logger: capturingLogger().logger, clock, usageSink: { writeBatch: async (batch) => void rows.push(...batch) } },
    );
    fake.enqueue({ type: 'hang', afterChunks: 1 });
    const iterator = llm.stream({ messages: [{ role: 'user', content: 'Tell me a long story.' }] })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'start' });
    expect((await iterator.next()).value).toMatchObject({ type: 'delta' });
    const next = rejection(iterator.next());
    clock.advance(2999);
    clock.advance(1);
    expect(await next).toMatchObject({ name: 'DeadlineExceededError', code: 'deadline_exceeded', retryable: false });
    await llm.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'deadline_exceeded', promptTokens: expect.any(Number) });
    expect(rows[0]?.completionTokens).toBeGreaterThan(0);
    expect(rows[0]?.promptTokens).toBeGreaterThan(0);
  });
});
