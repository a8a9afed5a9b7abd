import { increment, observe } from '../src/observability/metric-series.js';
import { GroundworkMetrics } from '../src/observability/metrics.js';
import { type BenchResult, round } from './harness.js';

const CALLS = 100_000;
const ROUNDS = 7;

/** The metrics one answered LLM call served by `groundwork serve` records, with fresh label objects as callers build them. */
function perCall(metrics: GroundworkMetrics, bound: boolean): () => void {
  const base = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-4o-mini' };
  if (!bound) {
    return () => {
      metrics.llmDuration.observe({ ...base, error_type: '' }, 0.05);
      metrics.llmTokens.observe({ ...base, gen_ai_token_type: 'input' }, 120);
      metrics.llmTokens.observe({ ...base, gen_ai_token_type: 'output' }, 40);
      metrics.llmCalls.inc({ provider: 'openai', model: 'gpt-4o-mini', outcome: 'success' });
      metrics.llmCost.inc({ provider: 'openai', model: 'gpt-4o-mini' }, 0.0001);
      metrics.httpRequests.inc({ method: 'POST', route: '/v1/chat/completions', status: '200' });
      metrics.httpDuration.observe({ method: 'POST', route: '/v1/chat/completions' }, 0.002);
    };
  }
  return () => {
    observe(metrics.llmDuration, { ...base, error_type: '' }, 0.05);
    observe(metrics.llmTokens, { ...base, gen_ai_token_type: 'input' }, 120);
    observe(metrics.llmTokens, { ...base, gen_ai_token_type: 'output' }, 40);
    increment(metrics.llmCalls, { provider: 'openai', model: 'gpt-4o-mini', outcome: 'success' });
    increment(metrics.llmCost, { provider: 'openai', model: 'gpt-4o-mini' }, 0.0001);
    increment(metrics.httpRequests, { method: 'POST', route: '/v1/chat/completions', status: '200' });
    observe(metrics.httpDuration, { method: 'POST', route: '/v1/chat/completions' }, 0.002);
  };
}

function time(operation: () => void): number {
  const started = process.hrtime.bigint();
  for (let index = 0; index < CALLS; index++) operation();
  return Number(process.hrtime.bigint() - started) / 1000 / CALLS;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/** prom-client's validating observe/inc against series bound once per label set, in alternating rounds. */
export default async function benchMetrics(): Promise<BenchResult> {
  const plain = perCall(new GroundworkMetrics(), false);
  const bound = perCall(new GroundworkMetrics(), true);
  time(plain);
  time(bound);
  const plainRounds: number[] = [];
  const boundRounds: number[] = [];
  for (let index = 0; index < ROUNDS; index++) {
    plainRounds.push(time(plain));
    boundRounds.push(time(bound));
  }
  const plainUs = median(plainRounds);
  const boundUs = median(boundRounds);
  return {
    name: 'metrics',
    description: `CPU µs to record the 7 series one answered call served by \`groundwork serve\` touches (llm duration, 2× tokens, calls, cost, http requests, http duration): prom-client's observe/inc against series bound once per label set; median of ${ROUNDS} alternating rounds of ${CALLS} calls.`,
    rows: [
      { subject: 'prom-client observe/inc (labels validated per call)', us_per_call: round(plainUs), us_per_series: round(plainUs / 7) },
      { subject: 'bound series (observe/increment)', us_per_call: round(boundUs), us_per_series: round(boundUs / 7) },
    ],
    ratios: { ratio_bound_speedup: round(plainUs / boundUs), saved_us_per_call: round(plainUs - boundUs) },
  };
}
