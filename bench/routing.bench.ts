import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlmClient } from '../src/llm/create-llm-client.js';
import { testConfig } from '../src/llm/llm.test-helpers.js';
import type { LlmClient } from '../src/llm/llm-client-types.js';
import { silentLogger } from '../src/observability/logger.js';
import { createResiliencePipeline } from '../src/resilience/create-resilience-pipeline.js';
import { createRouter } from '../src/routing/create-router.js';
import { loadRoutes } from '../src/routing/load-routes.js';
import { ROUTING_STRATEGIES, type RoutingStrategyName } from '../src/routing/routes-config.js';
import { RoutingPipeline } from '../src/routing/routing-pipeline.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, percentile, round } from './harness.js';

/*
 * Three fake deployments of one group: `normal` answers in NORMAL_MS, `slow` in 5× that, and
 * `throttled` answers like `normal` until half of each subject's calls are done, then only 429
 * (Retry-After 1 s). Each strategy makes CALLS calls with CONCURRENCY callers; the baseline
 * makes as many to the one `normal` deployment through the plain (ungrouped) configuration.
 * Subjects run in interleaved rounds; each keeps its own router state across its rounds.
 */
const CALLS = Number(process.env.ROUTING_BENCH_CALLS ?? 10_000);
const ROUNDS = 5;
const CONCURRENCY = 16;
const NORMAL_MS = 2;
const SLOW_MS = 10;

interface Subject {
  name: string;
  client: LlmClient;
  model: string;
  latenciesUs: number[];
  failed: number;
  sent: Record<'normal' | 'slow' | 'throttled', number>;
  done: number;
}

export default async function routingBench(): Promise<BenchResult> {
  let throttling = false;
  const normal = await new FakeProviderServer({ handler: () => ({ type: 'answer', content: 'ok', delayMs: NORMAL_MS }) }).start();
  const slow = await new FakeProviderServer({ handler: () => ({ type: 'answer', content: 'ok', delayMs: SLOW_MS }) }).start();
  const throttled = await new FakeProviderServer({
    handler: () => (throttling ? { type: 'error', status: 429, retryAfter: 1 } : { type: 'answer', content: 'ok', delayMs: NORMAL_MS }),
  }).start();
  const servers = { normal, slow, throttled };
  const directory = await mkdtemp(join(tmpdir(), 'gw-routing-bench-'));
  const env = {
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: normal.openaiBaseUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    LLM_REQUESTS_PER_MINUTE: '10000000',
    LLM_MAX_CONCURRENT: '64',
    LLM_MAX_ATTEMPTS: '3',
    LLM_RETRY_MIN_MS: '50',
    LLM_RETRY_MAX_MS: '1000',
    LLM_CACHE: 'off',
    LLM_LEDGER: 'false',
    LOG_LEVEL: 'silent',
    BENCH_KEY: 'bench-key',
  };
  const config = testConfig(env);
  const logger = silentLogger();
  const subjects: Subject[] = [];
  const closers: Array<() => Promise<void>> = [];
  const blank = () => ({ normal: 0, slow: 0, throttled: 0 });
  {
    const pipeline = createResiliencePipeline(config.resilience, { logger });
    const client = createLlmClient(config, { logger, pipeline });
    closers.push(
      () => client.close(),
      () => pipeline.close(),
    );
    subjects.push({
      name: 'single deployment (baseline)',
      client,
      model: 'gpt-4o-mini',
      latenciesUs: [],
      failed: 0,
      sent: blank(),
      done: 0,
    });
  }
  for (const strategy of ROUTING_STRATEGIES) {
    const file = join(directory, `${strategy}.json`);
    const deployment = (name: keyof typeof servers) => ({
      name,
      provider: 'openai',
      model: `model-${name}`,
      baseUrl: servers[name].openaiBaseUrl,
      apiKeyEnv: 'BENCH_KEY',
    });
    await writeFile(
      file,
      JSON.stringify({ groups: { chat: { strategy, deployments: [deployment('normal'), deployment('slow'), deployment('throttled')] } } }),
    );
    const routes = await loadRoutes(file, { env });
    const pipeline = createResiliencePipeline(config.resilience, { logger });
    const router = createRouter(routes, config.resilience, { logger });
    const client = createLlmClient(config, { logger, pipeline: new RoutingPipeline(pipeline, router), routes });
    closers.push(
      () => client.close(),
      () => router.close(),
      () => pipeline.close(),
    );
    subjects.push({ name: strategy, client, model: 'chat', latenciesUs: [], failed: 0, sent: blank(), done: 0 });
  }

  const perRound = Math.ceil(CALLS / ROUNDS);
  const loads: number[] = [loadavg()[0] ?? 0];
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    for (const subject of subjects) {
      for (const server of Object.values(servers)) server.reset();
      const calls = Math.min(perRound, CALLS - subject.done);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < calls) {
          next++;
          // The throttled deployment turns to 429s half-way through each subject's calls.
          throttling = subject.done + next > CALLS / 2;
          const began = process.hrtime.bigint();
          try {
            await subject.client.complete({ model: subject.model, messages: [{ role: 'user', content: 'Translate: house' }] });
            subject.latenciesUs.push(Number(process.hrtime.bigint() - began) / 1000);
          } catch {
            subject.failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      subject.done += calls;
      for (const [name, server] of Object.entries(servers)) {
        subject.sent[name as keyof typeof servers] += server.requests.filter((request) => request.wire === 'openai').length;
      }
    }
    loads.push(loadavg()[0] ?? 0);
  }
  for (const close of closers) await close();
  await Promise.all(Object.values(servers).map((server) => server.close()));
  await rm(directory, { recursive: true, force: true });

  const summary = subjects.map((subject) => {
    const sorted = [...subject.latenciesUs].sort((a, b) => a - b);
    return {
      subject: subject.name,
      calls: subject.done,
      failed: subject.failed,
      p50_ms: round(percentile(sorted, 50) / 1000),
      p99_ms: round(percentile(sorted, 99) / 1000),
      sent_normal: subject.sent.normal,
      sent_slow: subject.sent.slow,
      sent_throttled: subject.sent.throttled,
    };
  });
  const baseline = summary[0]!;
  const ratios: Record<string, number | string> = {
    load_average: `${round(Math.min(...loads))}–${round(Math.max(...loads))}`,
  };
  for (const row of summary.slice(1)) {
    ratios[`p50_ratio_${row.subject}`] = round(row.p50_ms / baseline.p50_ms);
    ratios[`p99_ratio_${row.subject}`] = round(row.p99_ms / baseline.p99_ms);
  }
  const best = summary
    .slice(1)
    .filter((row) => row.failed === 0)
    .sort((a, b) => a.p99_ms - b.p99_ms || a.p50_ms - b.p50_ms)[0];
  ratios.best_strategy = (best?.subject as RoutingStrategyName | undefined) ?? 'none without failures';
  return {
    name: 'routing',
    description: `${CALLS} calls per subject (${CONCURRENCY} callers, ${ROUNDS} interleaved rounds) over 3 fake deployments: normal ${NORMAL_MS} ms, slow ${SLOW_MS} ms, and one answering 429 from half-way; the baseline calls the normal one alone`,
    rows: summary,
    ratios,
  };
}
