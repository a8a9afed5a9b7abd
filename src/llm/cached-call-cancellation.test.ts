import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResponseCache } from '../cache/create-response-cache.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, providerEnv, testConfig } from './llm.test-helpers.js';
import type { LlmClient, LlmStreamEvent } from './llm-client-types.js';
import type { UsageRecord } from './usage-record.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
});

const opened: Array<{ llm: LlmClient; cache: ResponseCache | undefined }> = [];
afterEach(async () => {
  for (const { llm, cache } of opened.splice(0)) {
    await llm.close();
    await cache?.close();
  }
  fake.reset();
});

let namespace = 0;

/** A client over the fake provider with the memory response cache, its ledger rows kept in `rows`. */
function cachedClient() {
  const logger = capturingLogger().logger;
  const cache = createResponseCache(
    { mode: 'memory', ttlSeconds: 60, maxEntries: 10, maxBytes: 1_000_000, namespace: `flight-${++namespace}` },
    { logger },
  );
  const rows: UsageRecord[] = [];
  const llm = createLlmClient(testConfig({ ...providerEnv('openai', fake), LLM_MAX_ATTEMPTS: '1' }), {
    logger,
    cache,
    usageSink: { writeBatch: async (batch) => void rows.push(...batch) },
  });
  opened.push({ llm, cache });
  return { llm, rows };
}

/** The fake holds every request until `open()`, then answers it 'Paris'; `arrived` resolves with the first request. */
function heldUpstream() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let arrived: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  fake.setHandler(async () => {
    arrived();
    await gate;
    return { type: 'answer', content: 'Paris' };
  });
  return { open, arrived: first };
}

const question = { messages: [{ role: 'user' as const, content: 'Capital of France?' }], temperature: 0 };
const billed = { keyId: 'key-first', teamId: 'team-first' };

/** The tokens and cost of the rows billed to `keyId`, and their outcomes. */
function billedTo(rows: readonly UsageRecord[], keyId: string) {
  const mine = rows.filter((row) => row.keyId === keyId);
  return {
    outcomes: mine.map((row) => row.outcome),
    totalTokens: mine.reduce((sum, row) => sum + row.totalTokens, 0),
    costUsd: mine.reduce((sum, row) => sum + row.costUsd, 0),
  };
}

function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'answered',
    (error: Error) => `failed: ${error.message}`,
  );
}

describe('a cached call shared by callers who cancel', () => {
  it('answers the other callers when the first one cancels, and bills the shared call to the first', async () => {
    const { llm, rows } = cachedClient();
    const upstream = heldUpstream();
    const leaving = new AbortController();
    const started = llm.complete(question, { signal: leaving.signal, attribution: billed });
    await upstream.arrived;
    const second = llm.complete(question);
    leaving.abort(new Error('first client went away'));
    expect(await outcomeOf(started)).toBe('failed: first client went away');
    // The shared call runs on: its row waits for it, and so does flush().
    const flushed = llm.flush();
    upstream.open();
    const answer = await second;
    await flushed;
    expect(answer.content).toBe('Paris');
    expect(answer.metadata.cached).toBe(true);
    expect(fake.requests).toHaveLength(1);
    // The answered turn is the first caller's (a `continued` row), then its cancellation, as for a cut tool loop.
    const first = billedTo(rows, 'key-first');
    expect(first.outcomes).toEqual(['continued', 'cancelled']);
    expect(first.totalTokens).toBeGreaterThan(0);
    expect(first.costUsd).toBeGreaterThan(0);
    await llm.flush();
    expect(rows.filter((row) => row.keyId === null)).toMatchObject([{ outcome: 'success', cacheHit: true, costUsd: 0 }]);
    expect(rows).toHaveLength(3);
    expect(getEventListeners(leaving.signal, 'abort')).toHaveLength(0);
  });

  it('releases a caller that joined and then cancels at once, while the upstream call goes on', async () => {
    const { llm, rows } = cachedClient();
    const upstream = heldUpstream();
    const first = llm.complete(question);
    await upstream.arrived;
    const joining = new AbortController();
    const joined = llm.complete(question, { signal: joining.signal });
    joining.abort(new Error('caller gave up'));
    // Released while the upstream still holds the answer back.
    expect(await outcomeOf(joined)).toBe('failed: caller gave up');
    upstream.open();
    expect((await first).content).toBe('Paris');
    await llm.flush();
    expect(rows.map((row) => row.outcome).sort()).toEqual(['cancelled', 'success']);
    expect(rows.find((row) => row.outcome === 'cancelled')).toMatchObject({ totalTokens: 0, costUsd: 0 });
    expect(getEventListeners(joining.signal, 'abort')).toHaveLength(0);
  });

  it('aborts the upstream call when every caller has cancelled, and records what each spent', async () => {
    const { llm, rows } = cachedClient();
    const upstream = heldUpstream();
    const a = new AbortController();
    const b = new AbortController();
    const first = llm.complete(question, { signal: a.signal });
    await upstream.arrived;
    const second = llm.complete(question, { signal: b.signal });
    const [request] = fake.requests;
    const cut = fake.cutByCaller(request!);
    a.abort(new Error('a left'));
    expect(await outcomeOf(first)).toBe('failed: a left');
    b.abort(new Error('b left'));
    expect(await outcomeOf(second)).toBe('failed: b left');
    await cut; // the fake saw its caller close the exchange
    upstream.open();
    await llm.flush();
    expect(rows.map((row) => row.outcome)).toEqual(['cancelled', 'cancelled']);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0);
    // The next identical call starts a fresh upstream call.
    expect((await llm.complete(question)).metadata.cached).toBe(false);
  });

  it('keeps a shared stream going for the other callers when the streaming caller cancels', async () => {
    const { llm, rows } = cachedClient();
    const upstream = heldUpstream();
    const leaving = new AbortController();
    const events: Array<LlmStreamEvent<undefined>['type']> = [];
    const streamed = (async () => {
      for await (const event of llm.stream(question, { signal: leaving.signal, attribution: billed })) events.push(event.type);
    })();
    await upstream.arrived;
    const second = llm.complete(question);
    leaving.abort(new Error('stream reader went away'));
    expect(await outcomeOf(streamed)).toBe('failed: stream reader went away');
    upstream.open();
    expect((await second).content).toBe('Paris');
    await llm.flush();
    const first = billedTo(rows, 'key-first');
    expect(first.outcomes).toEqual(['continued', 'cancelled']);
    expect(first.totalTokens).toBeGreaterThan(0);
    expect(first.costUsd).toBeGreaterThan(0);
    await llm.flush();
    expect(rows).toHaveLength(3);
  });
});

describe('a stream its reader abandons', () => {
  async function abandon(llm: LlmClient, rows: UsageRecord[]): Promise<void> {
    fake.enqueue({ type: 'hang', afterChunks: 3 });
    let deltas = 0;
    for await (const event of llm.stream(
      { messages: [{ role: 'user', content: 'Write a long story about a cat who learns to fly. '.repeat(20) }] },
      { onUsageRecord: (row) => rows.push(row) },
    )) {
      if (event.type === 'delta') deltas++;
      if (deltas === 3) break;
    }
  }

  function plainClient() {
    const logger = capturingLogger().logger;
    const sunk: UsageRecord[] = [];
    const llm = createLlmClient(testConfig(providerEnv('openai', fake)), {
      logger,
      usageSink: { writeBatch: async (batch) => void sunk.push(...batch) },
    });
    opened.push({ llm, cache: undefined });
    return llm;
  }

  it('records the prompt and the text delivered, at their cost, once the cut has settled; flush() waits for it', async () => {
    const llm = plainClient();
    const rows: UsageRecord[] = [];
    await abandon(llm, rows);
    await llm.flush();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'cancelled', operation: 'chat' });
    expect(rows[0]?.promptTokens).toBeGreaterThan(0);
    expect(rows[0]?.completionTokens).toBeGreaterThan(0);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
  });

  it('has its row written before close() resolves, and only once', async () => {
    const llm = plainClient();
    const rows: UsageRecord[] = [];
    await abandon(llm, rows);
    await llm.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.totalTokens).toBeGreaterThan(0);
  });
});
