import { Agent } from 'node:http';
import { startFakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, type LatencySummary, measureConcurrent, round } from './harness.js';
import { postJson, startServedStack } from './served-stack.js';

/*
 * `npm run bench -- responses`: one Responses API call (the fake provider answering at once), in
 * interleaved rounds at 1 and 16 concurrent connections:
 *   - the fake provider's `/v1/responses` called directly (the baseline),
 *   - `groundwork serve` forwarding it (OpenAI upstream),
 *   - `groundwork serve` translating it to the chat API of a compatible server,
 *   - `groundwork serve`'s chat completions, the same question on the chat path, for comparison.
 * Whole answers and streams (9 events); the response cache is off.
 */

const RESPONSES = JSON.stringify({ model: 'gpt-4o-mini', input: 'Say hello.', max_output_tokens: 16, store: false });
const RESPONSES_STREAM = JSON.stringify({ model: 'gpt-4o-mini', input: 'Say hello.', max_output_tokens: 16, store: false, stream: true });
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const ROUNDS = 3;

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
  const forwarded = await startServedStack(fake, 'openai');
  const translated = await startServedStack(fake, 'openai-compatible');
  const rows: BenchResult['rows'] = [];
  const results: Record<string, LatencySummary> = {};
  try {
    for (const concurrency of [1, 16]) {
      const iterations = concurrency === 1 ? 100 : 400;
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      const subjects: Array<[string, () => Promise<void>]> = [
        ['direct', () => postJson(`${fake.openaiBaseUrl}/responses`, RESPONSES, agent)],
        ['forwarded', () => postJson(`${forwarded.url}/responses`, RESPONSES, agent)],
        ['translated', () => postJson(`${translated.url}/responses`, RESPONSES, agent)],
        ['chat', () => postJson(`${forwarded.url}/chat/completions`, CHAT, agent)],
        ['direct stream', () => postJson(`${fake.openaiBaseUrl}/responses`, RESPONSES_STREAM, agent)],
        ['forwarded stream', () => postJson(`${forwarded.url}/responses`, RESPONSES_STREAM, agent)],
        ['translated stream', () => postJson(`${translated.url}/responses`, RESPONSES_STREAM, agent)],
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
