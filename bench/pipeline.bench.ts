import OpenAI from 'openai';
import type { AttemptResult, CallPlan } from '../src/llm/call-pipeline.js';
import { createLlmClient } from '../src/llm/create-llm-client.js';
import { providerEnv, testConfig } from '../src/llm/llm.test-helpers.js';
import { silentLogger } from '../src/observability/logger.js';
import { GroundworkMetrics } from '../src/observability/metrics.js';
import { createResiliencePipeline } from '../src/resilience/create-resilience-pipeline.js';
import { estimateTokens } from '../src/resilience/estimate-tokens.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, type LatencySummary, measureConcurrent, measureSerial, round } from './harness.js';

/*
 * Two questions, measured side by side in one run:
 * 1. What the whole resilience stack (breaker, rate limits by requests and tokens, concurrency,
 *    per-attempt timeout, retry bookkeeping, metrics) costs per call in memory mode, around an
 *    attempt that does nothing, against calling that attempt directly.
 * 2. Calls per second of the full LLM client (pipeline, token estimate, validation, metrics)
 *    against the raw OpenAI SDK, both at the fake provider server answering at once, with the
 *    same number of callers at a time; and the client without the stack, to tell the stack's
 *    share from the client's.
 */
export default async function pipelineBench(): Promise<BenchResult> {
  const logger = silentLogger();
  const metrics = new GroundworkMetrics();
  const base = testConfig({ LLM_REQUESTS_PER_MINUTE: '10000000', LLM_TOKENS_PER_MINUTE: '1000000000', LLM_MAX_CONCURRENT: '64' });
  const pipeline = createResiliencePipeline(base.resilience, { logger, metrics });
  const result: AttemptResult<number> = { value: 1, usage: { promptTokens: 10, completionTokens: 10, totalTokens: 20 } };
  const nothing = (): Promise<AttemptResult<number>> => Promise.resolve(result);
  const plan: CallPlan = { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], estimatedTokens: 100 };

  const direct = await measureSerial(nothing, { iterations: 200_000, warmup: 20_000 });
  const stack = await measureSerial(() => pipeline.execute(plan, nothing), { iterations: 200_000, warmup: 20_000 });
  await pipeline.close();

  const concurrency = 8;
  const fake = await new FakeProviderServer({
    handler: () => ({ type: 'answer', content: 'Haus', usage: { promptTokens: 20, completionTokens: 1 } }),
  }).start();
  const messages = [
    { role: 'system' as const, content: 'You translate English words to German. Answer with the word only.' },
    { role: 'user' as const, content: 'Translate: house' },
  ];
  const config = testConfig({
    ...providerEnv('openai', fake, 'bench-key'),
    LLM_REQUESTS_PER_MINUTE: '10000000',
    LLM_TOKENS_PER_MINUTE: '1000000000',
    LLM_MAX_CONCURRENT: String(concurrency),
    LLM_CACHE: 'off',
    LLM_LEDGER: 'false',
    LOG_LEVEL: 'silent',
  });
  const clientPipeline = createResiliencePipeline(config.resilience, { logger, metrics });
  const client = createLlmClient(config, {
    logger,
    metrics,
    pipeline: clientPipeline,
    estimateTokens: (request) => estimateTokens(request.messages, request.model, request.maxTokens ?? config.llm.outputTokensEstimate),
  });
  const bare = createLlmClient(config, { logger, metrics });
  const sdk = new OpenAI({ apiKey: 'bench-key', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  try {
    const raw = () => sdk.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50 });
    const full = () => client.complete({ messages, maxTokens: 50 });
    const bareCall = () => bare.complete({ messages, maxTokens: 50 });
    const options = { iterations: 1500, concurrency, warmup: 300 };
    // Rounds alternate the three subjects, so none gets the quieter moments of a shared machine; the median round counts.
    const rounds: Record<'raw' | 'full' | 'bare', LatencySummary[]> = { raw: [], full: [], bare: [] };
    for (let round = 0; round < 5; round++) {
      rounds.raw.push(await measureConcurrent(raw, options));
      rounds.full.push(await measureConcurrent(full, options));
      rounds.bare.push(await measureConcurrent(bareCall, options));
    }
    const median = (runs: LatencySummary[]): LatencySummary =>
      [...runs].sort((a, b) => a.ops_per_s - b.ops_per_s)[Math.floor(runs.length / 2)] as LatencySummary;
    const [rawRun, fullRun, bareRun] = [median(rounds.raw), median(rounds.full), median(rounds.bare)];
    const [rawOps, fullOps, directOps] = [rawRun.ops_per_s, fullRun.ops_per_s, bareRun.ops_per_s];
    return {
      name: 'pipeline',
      description:
        'Resilience stack overhead per call (memory mode, no-op attempt) and LLM client throughput against the raw OpenAI SDK at the fake server',
      rows: [
        { subject: 'no-op attempt, direct', ...direct },
        { subject: 'no-op attempt, through the stack', ...stack },
        { subject: `raw OpenAI SDK, ${concurrency} callers`, ...rawRun },
        { subject: `Groundwork LLM client + stack, ${concurrency} callers`, ...fullRun },
        { subject: `Groundwork LLM client, no stack, ${concurrency} callers`, ...bareRun },
      ],
      ratios: {
        stack_overhead_p50_us: round(stack.p50_us - direct.p50_us),
        stack_overhead_p99_us: round(stack.p99_us - direct.p99_us),
        ratio_client_vs_raw_sdk_ops: round(fullOps / rawOps),
        ratio_client_with_stack_vs_without_ops: round(fullOps / directOps),
      },
    };
  } finally {
    await client.close();
    await bare.close();
    await clientPipeline.close();
    await fake.close();
  }
}
