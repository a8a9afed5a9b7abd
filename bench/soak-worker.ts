/*
 * One soak run in its own process (start it with --expose-gc): `calls` LLM calls, JSON or streamed,
 * through the facade (cache off, ledger on, SQLite) against the fake provider over real HTTP, then
 * the heap after full collections, compared with the heap after a warm-up. Prints one JSON line.
 *
 * Every CHECKPOINT calls (default 10,000, or a fifth of the run if that is less) it also collects
 * garbage while the calls are still running and records the heap and RSS: what a busy process
 * keeps only while it is busy (a line of callers that never empties, say) shows there, and is gone
 * again once the run is over. The growth per 10,000 calls in the run is the slope through them.
 *
 *   node --expose-gc --import tsx bench/soak-worker.ts stream|json CALLS [CONCURRENCY] [WARMUP] [CHECKPOINT]
 */
import { createInfrastructure } from '../src/create-infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';

const [mode = 'stream', callsText = '2000', concurrencyText = '16', warmupText, checkpointText] = process.argv.slice(2);
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

/** Heap and RSS after a full collection, taken while the calls are running. */
interface Checkpoint {
  calls: number;
  heapUsedBytes: number;
  rssBytes: number;
}

const checkpoints: Checkpoint[] = [];
const checkpointEvery = checkpointText === undefined ? Math.min(10_000, Math.max(1, Math.floor(calls / 5))) : Number(checkpointText);

async function run(count: number, onCall?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        await one(next++);
        onCall?.(++done);
      }
    }),
  );
}

function checkpoint(done: number): void {
  if (done % checkpointEvery !== 0) return;
  gc?.();
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  checkpoints.push({ calls: done, heapUsedBytes: heapUsed, rssBytes: rss });
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stderr.write(
    `${mode}: ${done} calls in ${seconds} s, heap ${Math.round(heapUsed / 1024)} KB, rss ${Math.round(rss / 1048576)} MB\n`,
  );
}

/** Least-squares slope of the heap through the checkpoints, in bytes per 10,000 calls. */
function slopePer10k(points: readonly Checkpoint[]): number {
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, point) => sum + point.calls, 0) / points.length;
  const meanY = points.reduce((sum, point) => sum + point.heapUsedBytes, 0) / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const point of points) {
    numerator += (point.calls - meanX) * (point.heapUsedBytes - meanY);
    denominator += (point.calls - meanX) ** 2;
  }
  return Math.round((numerator / denominator) * 10_000);
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
await run(calls, checkpoint);
const elapsedMs = performance.now() - started;
const after = await settledHeap();
const rssAfter = process.memoryUsage().rss;
await infrastructure.close();
await fake.close();
console.log(
  JSON.stringify({
    mode,
    calls,
    heapBeforeBytes: before,
    heapAfterBytes: after,
    growthBytesPer10k: Math.round(((after - before) / calls) * 10_000),
    inRunGrowthBytesPer10k: slopePer10k(checkpoints),
    rssAfterBytes: rssAfter,
    checkpoints,
    elapsedMs: Math.round(elapsedMs),
    callsPerSecond: Math.round((calls / elapsedMs) * 1000),
    failures,
  }),
);
