import { Agent, request as httpRequest } from 'node:http';
import { createInfrastructure } from '../src/create-infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { createServer, type GroundworkServer } from '../src/server/create-server.js';
import { createServiceBackend } from '../src/server/infrastructure-backend.js';
import { type FakeProviderServer, startFakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, type LatencySummary, measureConcurrent, round } from './harness.js';

/*
 * `npm run bench -- responses`: one Responses API call (the fake provider answering at once), in
 * interleaved rounds at 1 and 16 concurrent connections:
 *   - the fake provider's `/v1/responses` called directly (the baseline),
 *   - `groundwork serve` forwarding it (OpenAI upstream),
 *   - `groundwork serve` translating it to the chat API of a compatible server,
 *   - `groundwork serve`'s chat completions, the same question on the chat path, for comparison.
 * Whole answers and streams (9 events); the response cache is off.
 */

const KEY = 'gw-bench-key';
const RESPONSES = JSON.stringify({ model: 'gpt-4o-mini', input: 'Say hello.', max_output_tokens: 16, store: false });
const RESPONSES_STREAM = JSON.stringify({ model: 'gpt-4o-mini', input: 'Say hello.', max_output_tokens: 16, store: false, stream: true });
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const ROUNDS = 3;

/** POSTs over a keep-alive agent and drains the answer; rejects on a non-200. */
function post(url: string, body: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } },
      (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function serve(fake: FakeProviderServer, provider: string): Promise<{ url: string; server: GroundworkServer }> {
  const infrastructure = await createInfrastructure({
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: provider,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      OPENAI_MODEL: 'gpt-4o-mini',
      LLM_CACHE: 'off',
      LLM_REQUESTS_PER_MINUTE: '10000000',
      LLM_MAX_CONCURRENT: '64',
      GROUNDWORK_API_KEYS: KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      SERVER_ACCESS_LOG: 'false',
    },
    envFile: false,
    logger: silentLogger(),
  });
  const backend = createServiceBackend(infrastructure);
  await backend.migrate?.();
  const server = createServer(backend, infrastructure.config.server, { logger: silentLogger(), metrics: infrastructure.metrics });
  const address = await server.listen();
  return { url: `http://127.0.0.1:${address.port}/v1`, server };
}

/** The median of each figure over the rounds. */
function median(summaries: LatencySummary[]): LatencySummary {
  const mid = (pick: (summary: LatencySummary) => number) => {
    const sorted = summaries.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  return {
    count: summaries.reduce((sum, summary) => sum + summary.count, 0),
    p50_us: mid((summary) => summary.p50_us),
    p99_us: mid((summary) => summary.p99_us),
    mean_us: mid((summary) => summary.mean_us),
    ops_per_s: mid((summary) => summary.ops_per_s),
  };
}

export default async function responsesBench(): Promise<BenchResult> {
  const fake = await startFakeProviderServer();
  const forwarded = await serve(fake, 'openai');
  const translated = await serve(fake, 'openai-compatible');
  const rows: BenchResult['rows'] = [];
  const results: Record<string, LatencySummary> = {};
  try {
    for (const concurrency of [1, 16]) {
      const iterations = concurrency === 1 ? 100 : 400;
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      const subjects: Array<[string, () => Promise<void>]> = [
        ['direct', () => post(`${fake.openaiBaseUrl}/responses`, RESPONSES, agent)],
        ['forwarded', () => post(`${forwarded.url}/responses`, RESPONSES, agent)],
        ['translated', () => post(`${translated.url}/responses`, RESPONSES, agent)],
        ['chat', () => post(`${forwarded.url}/chat/completions`, CHAT, agent)],
        ['direct stream', () => post(`${fake.openaiBaseUrl}/responses`, RESPONSES_STREAM, agent)],
        ['forwarded stream', () => post(`${forwarded.url}/responses`, RESPONSES_STREAM, agent)],
        ['translated stream', () => post(`${translated.url}/responses`, RESPONSES_STREAM, agent)],
      ];
      const perRound = new Map<string, LatencySummary[]>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const [subject, operation] of subjects) {
          const summary = await measureConcurrent(operation, { iterations, concurrency, warmup: round === 0 ? 100 : 20 });
          perRound.set(subject, [...(perRound.get(subject) ?? []), summary]);
        }
      }
      for (const [subject] of subjects) {
        const summary = median(perRound.get(subject) ?? []);
        results[`${subject}@${concurrency}`] = summary;
        rows.push({ subject: `${subject} (c=${concurrency})`, ...summary });
      }
      agent.destroy();
    }
  } finally {
    await forwarded.server.close();
    await translated.server.close();
    await fake.close();
  }
  const figure = (subject: string, concurrency: number, field: keyof LatencySummary) =>
    results[`${subject}@${concurrency}`]?.[field] ?? Number.NaN;
  const ratios: BenchResult['ratios'] = {};
  for (const concurrency of [1, 16]) {
    for (const [subject, baseline] of [
      ['forwarded', 'direct'],
      ['translated', 'direct'],
      ['forwarded', 'chat'],
      ['forwarded stream', 'direct stream'],
      ['translated stream', 'direct stream'],
    ] as const) {
      const name = `${subject.replace(' ', '_')}_vs_${baseline.replace(' ', '_')}_c${concurrency}`;
      ratios[`ratio_ops_${name}`] = round(figure(subject, concurrency, 'ops_per_s') / figure(baseline, concurrency, 'ops_per_s'));
      ratios[`added_p50_us_${name}`] = round(figure(subject, concurrency, 'p50_us') - figure(baseline, concurrency, 'p50_us'));
    }
  }
  return {
    name: 'responses',
    description:
      'One Responses API call against the fake provider (answering at once): directly, forwarded by serve, translated by serve to a chat API, and serve’s chat completions for comparison; whole and streamed; 1 and 16 connections; median of 3 interleaved rounds; cache off.',
    rows,
    ratios,
  };
}
