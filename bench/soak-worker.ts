/*
 * One soak run in its own process (start it with --expose-gc): `calls` LLM calls, JSON or streamed,
 * through the facade (cache off, ledger on, SQLite) against the fake provider over real HTTP, then
 * the heap after full collections, compared with the heap after a warm-up. Prints one JSON line.
 *
 *   node --expose-gc --import tsx bench/soak-worker.ts stream|json CALLS [CONCURRENCY] [WARMUP]
 */
import { createInfrastructure } from '../src/create-infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';

const [mode = 'stream', callsText = '2000', concurrencyText = '16', warmupText] = process.argv.slice(2);
const calls = Number(callsText);
const concurrency = Number(concurrencyText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('Run the soak worker with node --expose-gc');

const fake = await new FakeProviderServer().start();
const infrastructure = await createInfrastructure({
  env: {
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-soak-000000000000000000',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    DATABASE_URL: 'sqlite::memory:',
    LLM_CACHE: 'off',
    // A busy machine must not turn into timeouts and an open circuit: this measures memory, not limits.
    LLM_TIMEOUT_MS: '60000',
    LLM_DEADLINE_MS: '120000',
    LLM_CIRCUIT_FAILURE_THRESHOLD: '1000',
  },
  logger: silentLogger(),
});
await infrastructure.initDb();

const failures: Record<string, number> = {};

async function one(index: number): Promise<void> {
  try {
    await call(index);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    failures[code] = (failures[code] ?? 0) + 1;
  }
}

async function call(index: number): Promise<void> {
  // The fake records every request; forget them, or the soak measures the fake.
  if (fake.requests.length > 100) fake.requests.length = 0;
  const request = { messages: [{ role: 'user' as const, content: `soak ${index}` }] };
  if (mode === 'json') {
    await infrastructure.llm.complete(request);
    return;
  }
  for await (const event of infrastructure.llm.stream(request)) if (event.type === 'done') break;
}

async function run(count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

async function settledHeap(): Promise<number> {
  await infrastructure.llm.flush();
  for (let round = 0; round < 4; round++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

const warmup = warmupText === undefined ? Math.min(1000, Math.max(200, Math.round(calls / 10))) : Number(warmupText);
await run(warmup);
const before = await settledHeap();
const started = performance.now();
await run(calls);
const elapsedMs = performance.now() - started;
const after = await settledHeap();
await infrastructure.close();
await fake.close();
console.log(
  JSON.stringify({
    mode,
    calls,
    heapBeforeBytes: before,
    heapAfterBytes: after,
    growthBytesPer10k: Math.round(((after - before) / calls) * 10_000),
    callsPerSecond: Math.round((calls / elapsedMs) * 1000),
    failures,
  }),
);
