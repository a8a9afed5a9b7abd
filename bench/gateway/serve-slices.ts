import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { cpuSeconds, freePort, GATEWAY_KEY, serveEnvironment, waitForHttp } from './serve-process.js';

/*
 * Builds and settings of `groundwork serve` side by side at 1 connection, JSON (streams with
 * `SERVE_SLICES_STREAM=true`), in short slices:
 *
 *   node --import tsx bench/gateway/serve-slices.ts SLICES SLICE_MS LABEL=ENTRY[|NODE_FLAGS[|NAME=VALUE,…]] …
 *
 * e.g. `ref=/path/main/dist/cli/bin.js new=dist/cli/bin.js 'gc=dist/cli/bin.js|--single-threaded-gc'
 * 'nolog=dist/cli/bin.js||SERVER_ACCESS_LOG=false' ref2=/path/main/dist/cli/bin.js`. Each subject is a
 * `serve` process of its own over one fake provider (the gateway benchmark's settings, plus the
 * variables given); one caller sends distinct prompts to each subject in turn, SLICE_MS at a time
 * after 100 ms unmeasured, every slice in turn (the order reversed every other slice). CPU is the
 * scheduler's count over the process's threads. Prints, per subject, its CPU per request over the
 * whole run and as a ratio of the first subject's, and the median of the slices' own ratios; and
 * the caller's latency: mean (at one connection, 1 ÷ req/s), p50 and p99, and the median of the
 * slices' mean-latency ratios to the first subject's.
 *
 * A JIT and a heap differ from one process to the next: name the reference twice (`ref`, `ref2`)
 * and read a change's ratio against the spread between the two. The gateway benchmark's rounds
 * are a second or more each and far apart; slices of a few hundred ms taken in turn see the same
 * load from other processes, and gave a spread of ±4% between two processes of one build at a
 * load average of 6–9 on 2 cores, where the benchmark's rounds spread 0.94–1.20.
 */

interface Subject {
  label: string;
  pid: number;
  pool: Pool;
  /** CPU ns and requests over the measured slices, and each slice's µs per request. */
  cpuNs: number;
  requests: number;
  slices: number[];
  /** Each measured request's latency, µs. */
  latencies: number[];
  /** Each slice's mean latency, µs (1 / req/s at one connection). */
  meanLatencies: number[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SETTLE_MS = 100;
const WARMUP_ROUNDS = 3;
const WARMUP_MS = 1500;
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_KEY}` };
/** Whether each request asks for a stream (`stream: true`) rather than a JSON answer. */
const STREAM = process.env['SERVE_SLICES_STREAM'] === 'true';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** `LABEL=ENTRY[|FLAGS[|NAME=VALUE,…]]`, split at the first `=`. */
function parseSpec(spec: string): { label: string; entry: string; flags: string[]; env: Record<string, string> } {
  const cut = spec.indexOf('=');
  if (cut <= 0) throw new Error(`"${spec}": expected LABEL=ENTRY[|NODE_FLAGS[|NAME=VALUE,…]]`);
  const [entry = '', flags = '', variables = ''] = spec.slice(cut + 1).split('|');
  const env: Record<string, string> = {};
  for (const pair of variables.split(',').filter((part) => part !== '')) {
    const equals = pair.indexOf('=');
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return { label: spec.slice(0, cut), entry: resolvePath(entry), flags: flags.split(' ').filter((flag) => flag !== ''), env };
}

let sequence = 0;

/** Sends one request after another to `subject` for `ms`; returns how many were answered, and records their latencies in `latencies`. */
async function callFor(subject: Subject, ms: number, latencies?: number[]): Promise<number> {
  const until = performance.now() + ms;
  let answered = 0;
  while (performance.now() < until) {
    const sent = performance.now();
    sequence++;
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `Say hello to caller ${process.pid}-${sequence}.` }],
      max_tokens: 16,
      ...(STREAM ? { stream: true } : {}),
    });
    const answer = await subject.pool.request({ method: 'POST', path: '/v1/chat/completions', headers: HEADERS, body });
    await answer.body.text();
    if (answer.statusCode !== 200) throw new Error(`${subject.label} answered ${answer.statusCode}`);
    latencies?.push((performance.now() - sent) * 1000);
    answered++;
  }
  return answered;
}

const [slicesArgument = '', sliceMsArgument = '', ...specs] = process.argv.slice(2);
const SLICES = Number(slicesArgument);
const SLICE_MS = Number(sliceMsArgument);
if (!(SLICES > 0) || !(SLICE_MS > 0) || specs.length === 0) {
  console.error('usage: serve-slices.ts SLICES SLICE_MS LABEL=ENTRY[|NODE_FLAGS[|NAME=VALUE,…]] …');
  process.exit(2);
}

const children: ChildProcess[] = [];
const directories: string[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const fake = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/gateway/fake-upstream.ts')], {
  cwd: root,
  stdio: ['pipe', 'pipe', 'inherit'],
});
children.push(fake);
const fakeUrl = await new Promise<string>((resolve) => {
  const lines = createInterface({ input: fake.stdout! });
  lines.on('line', (line) => {
    if (!line.startsWith('{')) return;
    lines.removeAllListeners('line');
    fake.stdout?.resume();
    resolve((JSON.parse(line) as { url: string }).url);
  });
});

const subjects: Subject[] = [];
for (const spec of specs) {
  const { label, entry, flags, env } = parseSpec(spec);
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'groundwork-serve-slices-'));
  directories.push(directory);
  const child = spawn(process.execPath, [...flags, entry, 'serve'], {
    cwd: directory,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: serveEnvironment(fakeUrl, port, env),
  });
  children.push(child);
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, label, child);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 1, keepAliveTimeout: 60_000 });
  subjects.push({ label, pid: child.pid!, pool, cpuNs: 0, requests: 0, slices: [], latencies: [], meanLatencies: [] });
}

const loadStart = loadavg()[0]?.toFixed(2);
for (let round = 0; round < WARMUP_ROUNDS; round++) for (const subject of subjects) await callFor(subject, WARMUP_MS);
for (let slice = 0; slice < SLICES; slice++) {
  for (const subject of slice % 2 === 0 ? subjects : [...subjects].reverse()) {
    await callFor(subject, SETTLE_MS);
    const before = cpuSeconds(subject.pid) * 1e9;
    const sliceStarted = performance.now();
    const answered = await callFor(subject, SLICE_MS, subject.latencies);
    subject.meanLatencies.push(((performance.now() - sliceStarted) * 1000) / answered);
    const used = cpuSeconds(subject.pid) * 1e9 - before;
    subject.cpuNs += used;
    subject.requests += answered;
    subject.slices.push(used / answered / 1000);
  }
}

const first = subjects[0] as Subject;
console.log(`${SLICES} slices of ${SLICE_MS} ms${STREAM ? ', streams' : ''}; load average ${loadStart} → ${loadavg()[0]?.toFixed(2)}`);
for (const subject of subjects) {
  const perRequest = subject.cpuNs / subject.requests / 1000;
  const ratio = perRequest / (first.cpuNs / first.requests / 1000);
  const paired = median(subject.slices.map((value, index) => value / (first.slices[index] as number)));
  const pairedLatency = median(subject.meanLatencies.map((value, index) => value / (first.meanLatencies[index] as number)));
  const sorted = [...subject.latencies].sort((a, b) => a - b);
  const at = (share: number): string => (sorted[Math.floor(sorted.length * share)] ?? Number.NaN).toFixed(0);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  console.log(
    `${subject.label}: ${perRequest.toFixed(1)} µs of CPU per request (${subject.requests} requests), ${ratio.toFixed(3)}× ${first.label}'s, median of the slices' ratios ${paired.toFixed(3)}; latency mean ${mean.toFixed(0)} µs, p50 ${at(0.5)}, p99 ${at(0.99)}, mean over ${first.label}'s (median of the slices' ratios) ${pairedLatency.toFixed(3)}`,
  );
}
process.exit(0);
