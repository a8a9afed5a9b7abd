import { Agent } from 'node:http';
import { startFakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, type LatencySummary, measureConcurrent, round } from './harness.js';
import { postJson, startServedStack } from './served-stack.js';

/*
 * `npm run bench -- service`: one chat completion (the fake provider answering at once), three ways,
 * at 1 and 32 concurrent connections in the same run:
 *   - the fake provider's HTTP endpoint called directly (the baseline),
 *   - Groundwork's call path in process (`backend.complete`: rate limit, breaker, concurrency, ledger),
 *   - the same call path behind `groundwork serve`, called over HTTP with the same client.
 * The difference between the last and the first is what putting Groundwork in front adds.
 * The response cache is off, so every call reaches the provider.
 */

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

export default async function serviceBench(): Promise<BenchResult> {
  const fake = await startFakeProviderServer();
  const { url, server, backend } = await startServedStack(fake);
  const direct = `${fake.openaiBaseUrl}/chat/completions`;
  const served = `${url}/chat/completions`;
  const inProcess = async (): Promise<void> => {
    await backend.complete(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 16 },
      {
        signal: new AbortController().signal,
      },
    );
  };

  const rows: BenchResult['rows'] = [];
  const results: Record<string, LatencySummary> = {};
  try {
    for (const concurrency of [1, 32]) {
      const iterations = concurrency === 1 ? 1500 : 6000;
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      const subjects: Array<[string, () => Promise<void>]> = [
        ['fake provider, direct HTTP', () => postJson(direct, BODY, agent)],
        ['call path in process', inProcess],
        ['groundwork serve → fake provider', () => postJson(served, BODY, agent)],
      ];
      for (const [subject, operation] of subjects) {
        const summary = await measureConcurrent(operation, { iterations, concurrency, warmup: 200 });
        results[`${subject}@${concurrency}`] = summary;
        rows.push({ subject: `${subject} (c=${concurrency})`, ...summary });
      }
      agent.destroy();
    }
  } finally {
    await server.close();
    await fake.close();
  }

  const added = (concurrency: number, field: 'p50_us' | 'p99_us'): number =>
    round(
      (results[`groundwork serve → fake provider@${concurrency}`]?.[field] ?? Number.NaN) -
        (results[`fake provider, direct HTTP@${concurrency}`]?.[field] ?? Number.NaN),
    );
  const ratio = (concurrency: number, field: 'p50_us' | 'ops_per_s'): number =>
    round(
      (results[`groundwork serve → fake provider@${concurrency}`]?.[field] ?? Number.NaN) /
        (results[`fake provider, direct HTTP@${concurrency}`]?.[field] ?? Number.NaN),
    );
  // What the HTTP server itself adds on top of the same call path in process.
  const layer = (concurrency: number): number =>
    round(
      (results[`groundwork serve → fake provider@${concurrency}`]?.p50_us ?? Number.NaN) -
        (results[`call path in process@${concurrency}`]?.p50_us ?? Number.NaN),
    );
  return {
    name: 'service',
    description:
      'One chat completion against the fake provider (answering at once): called directly over HTTP, through the call path in process, and through groundwork serve over HTTP; 1 and 32 concurrent connections, response cache off.',
    rows,
    ratios: {
      added_p50_us_c1: added(1, 'p50_us'),
      added_p99_us_c1: added(1, 'p99_us'),
      added_p50_us_c32: added(32, 'p50_us'),
      added_p99_us_c32: added(32, 'p99_us'),
      added_p50_us_http_layer_c1: layer(1),
      added_p50_us_http_layer_c32: layer(32),
      ratio_p50_serve_vs_direct_c1: ratio(1, 'p50_us'),
      ratio_p50_serve_vs_direct_c32: ratio(32, 'p50_us'),
      ratio_ops_serve_vs_direct_c1: ratio(1, 'ops_per_s'),
      ratio_ops_serve_vs_direct_c32: ratio(32, 'ops_per_s'),
    },
  };
}
