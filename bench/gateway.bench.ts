import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadGenerator, median, medianRows, type Sample, startUpstreams, stopAll, summarise } from './gateway/gateway-run.js';
import { freePort, GATEWAY_KEY, serveEnvironment, waitForHttp } from './gateway/serve-process.js';
import { type BenchResult, round } from './harness.js';

/*
 * `npm run bench -- gateway`: an OpenAI-compatible chat completion through each gateway, all
 * started in this run, each in a process of its own on loopback:
 *   - `direct`: the fake provider (`groundwork/testing`) called without a gateway;
 *   - `baseline`: ~30 lines of node:http + undici relaying to it, the floor for Node;
 *   - `groundwork`: `groundwork serve` from `dist/` with its defaults (access log, metrics, memory
 *     cache, embedded SQLite ledger, bearer keys) except the two limits that would throttle a
 *     benchmark (LLM_REQUESTS_PER_MINUTE, LLM_MAX_CONCURRENT);
 *   - `portkey`: Portkey's gateway (`@portkey-ai/gateway`, pinned) when it starts.
 * The load generator is one more process (undici pools, one request in flight per connection).
 * Each prompt is distinct, so the response cache never answers. Rounds interleave every subject
 * at every concurrency and mode, each round starting with the next subject; figures are medians
 * over rounds, and `*_paired_*` ratios the median of each round's own ratio. CPU per request is the
 * gateway process's CPU time over the measured window ÷ requests: the scheduler's count summed
 * over its threads (`/proc/PID/task/TID/schedstat`, in ns), where the kernel keeps one, else user +
 * system time (`/proc/PID/stat`, in 10 ms ticks).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.GATEWAY_BENCH_ROUNDS ?? 3);
const CONNECTIONS = (process.env.GATEWAY_BENCH_CONNECTIONS ?? '1,32,128').split(',').map(Number);
const WARMUP_MS = 300;
const DURATION_MS = Number(process.env.GATEWAY_BENCH_DURATION_MS ?? 1200);

type Mode = 'json' | 'stream';
type SubjectName = 'direct' | 'baseline' | 'groundwork' | 'portkey' | 'reference';

interface Subject {
  name: SubjectName;
  url: string;
  headers: Record<string, string>;
  /** The process whose CPU time counts (the gateway; the fake itself for `direct`). */
  pid: number;
  modes: Mode[];
}

/** One POST from this process, for the availability checks (Portkey's streams). */
async function probe(subject: Subject, stream: boolean): Promise<number> {
  const response = await fetch(subject.url, {
    method: 'POST',
    headers: subject.headers,
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'probe' }], ...(stream ? { stream: true } : {}) }),
  });
  await response.arrayBuffer();
  return response.status;
}

export default async function gatewayBench(): Promise<BenchResult> {
  const serveEntry = join(root, 'dist/cli/bin.js');
  if (!existsSync(serveEntry))
    throw new Error('dist/ is missing: run `npm run build` first (the benchmark runs groundwork serve from dist/)');
  const children: ChildProcess[] = [];
  const workDirectory = mkdtempSync(join(tmpdir(), 'groundwork-gateway-bench-'));
  const notes: Record<string, string> = {};
  const load = new LoadGenerator();
  const loadStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  try {
    const { fake, fakeUrl, baseline, baselinePort } = await startUpstreams(children);

    // GATEWAY_BENCH_PROFILE=DIR writes a CPU profile of `serve` there (it exits on SIGTERM, writing it).
    const profile = process.env.GATEWAY_BENCH_PROFILE;
    const profileFlags = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
    const startServe = async (entry: string, directory: string, flags: string[]): Promise<{ url: string; pid: number }> => {
      const port = await freePort();
      const serve = spawn(process.execPath, [...flags, entry, 'serve'], {
        cwd: directory,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: serveEnvironment(fakeUrl, port),
      });
      children.push(serve);
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, `groundwork serve (${entry})`, serve);
      return { url: `http://127.0.0.1:${port}/v1/chat/completions`, pid: serve.pid! };
    };
    // GATEWAY_BENCH_NODE_FLAGS='--flag …' starts this build's `serve` with those Node flags (V8's heap
    // settings, say), and the reference without them: a flag is measured against the same build.
    const nodeFlags = process.env.GATEWAY_BENCH_NODE_FLAGS?.split(' ').filter((flag) => flag !== '') ?? [];
    const serve = await startServe(serveEntry, workDirectory, [...nodeFlags, ...profileFlags]);
    // GATEWAY_BENCH_REFERENCE=PATH/dist/cli/bin.js measures another build of serve (an earlier
    // commit, say) side by side, in the same interleaved rounds, as the `reference` subject.
    const referenceEntry = process.env.GATEWAY_BENCH_REFERENCE;
    let reference: { url: string; pid: number } | undefined;
    if (referenceEntry !== undefined) {
      const referenceDirectory = join(workDirectory, 'reference');
      mkdirSync(referenceDirectory);
      reference = await startServe(referenceEntry, referenceDirectory, []);
    }

    const json = { 'content-type': 'application/json' };
    const subjects: Subject[] = [
      {
        name: 'direct',
        url: `${fakeUrl}/chat/completions`,
        headers: { ...json, authorization: 'Bearer sk-upstream' },
        pid: fake.pid!,
        modes: ['json', 'stream'],
      },
      {
        name: 'baseline',
        url: `http://127.0.0.1:${baselinePort}/v1/chat/completions`,
        headers: json,
        pid: baseline.pid!,
        modes: ['json', 'stream'],
      },
      {
        name: 'groundwork',
        url: serve.url,
        headers: { ...json, authorization: `Bearer ${GATEWAY_KEY}` },
        pid: serve.pid,
        modes: ['json', 'stream'],
      },
    ];
    if (reference !== undefined && referenceEntry !== undefined) {
      subjects.push({
        name: 'reference',
        url: reference.url,
        headers: { ...json, authorization: `Bearer ${GATEWAY_KEY}` },
        pid: reference.pid,
        modes: ['json', 'stream'],
      });
      notes.reference = `reference: groundwork serve from ${relative(root, resolvePath(referenceEntry))}`;
    }

    const portkeyEntry = join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js');
    if (existsSync(portkeyEntry)) {
      const portkeyPort = await freePort();
      const portkey = spawn(process.execPath, [portkeyEntry, `--port=${portkeyPort}`, '--headless'], {
        cwd: workDirectory,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      children.push(portkey);
      try {
        await waitForHttp(`http://127.0.0.1:${portkeyPort}/`, 'Portkey', portkey, 30_000);
        const subject: Subject = {
          name: 'portkey',
          url: `http://127.0.0.1:${portkeyPort}/v1/chat/completions`,
          headers: { ...json, authorization: 'Bearer sk-upstream', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fakeUrl },
          pid: portkey.pid!,
          modes: [],
        };
        const jsonStatus = await probe(subject, false);
        const streamStatus = await probe(subject, true);
        if (jsonStatus === 200) subject.modes.push('json');
        if (streamStatus === 200) subject.modes.push('stream');
        notes.portkey = `@portkey-ai/gateway ${portkeyVersion()} on Node ${process.version}: JSON answered ${jsonStatus}, stream: true answered ${streamStatus}${streamStatus === 200 ? '' : ' (so Portkey has no stream figures)'}`;
        if (subject.modes.length > 0) subjects.push(subject);
      } catch (error) {
        notes.portkey = `Portkey's gateway did not run: ${(error as Error).message}`;
      }
    } else {
      notes.portkey = '@portkey-ai/gateway is not installed (npm ci installs it as a dev dependency)';
    }

    // For profiling runs: GATEWAY_BENCH_ONLY=groundwork GATEWAY_BENCH_MODES=json keep those alone.
    const only = process.env.GATEWAY_BENCH_ONLY?.split(',');
    const modes = (process.env.GATEWAY_BENCH_MODES?.split(',') ?? ['json', 'stream']) as Mode[];
    const measured = subjects.filter((subject) => only === undefined || only.includes(subject.name));
    const samples = new Map<string, Sample[]>();
    // A discarded first round: each process's JIT warms up here rather than in the first measured round.
    if (process.env.GATEWAY_BENCH_WARMUP_ROUND !== '0') {
      for (const mode of modes) {
        for (const subject of measured) {
          if (!subject.modes.includes(mode)) continue;
          const connections = Math.max(...CONNECTIONS);
          await load.run(
            { url: subject.url, headers: subject.headers, connections, warmupMs: 0, durationMs: DURATION_MS, stream: mode === 'stream' },
            subject.pid,
          );
        }
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        for (const mode of modes) {
          // Each round starts with the next subject: whichever runs right after another is not always the same one.
          const order = measured.map((_, index) => measured[(index + round) % measured.length] as Subject);
          for (const subject of order) {
            if (!subject.modes.includes(mode)) continue;
            const { result, cpuSeconds: cpu } = await load.run(
              {
                url: subject.url,
                headers: subject.headers,
                connections,
                warmupMs: WARMUP_MS,
                durationMs: DURATION_MS,
                stream: mode === 'stream',
              },
              subject.pid,
            );
            const key = `${subject.name} ${mode} c=${connections}`;
            samples.set(key, [...(samples.get(key) ?? []), summarise(result, cpu)]);
          }
        }
      }
    }

    const figure = (name: SubjectName, mode: Mode, connections: number, field: keyof Sample): number =>
      median((samples.get(`${name} ${mode} c=${connections}`) ?? []).map((sample) => sample[field]));
    /** Per-round differences against the direct path, then the median: both measured side by side. */
    const addedOver = (name: SubjectName, mode: Mode, connections: number, field: 'p50_us' | 'p99_us'): number => {
      const own = samples.get(`${name} ${mode} c=${connections}`) ?? [];
      const direct = samples.get(`direct ${mode} c=${connections}`) ?? [];
      return round(median(own.map((sample, index) => sample[field] - (direct[index]?.[field] ?? Number.NaN))));
    };

    const pairedRatio = (name: SubjectName, other: SubjectName, mode: Mode, connections: number, field: keyof Sample): number => {
      const own = samples.get(`${name} ${mode} c=${connections}`) ?? [];
      const theirs = samples.get(`${other} ${mode} c=${connections}`) ?? [];
      return round(median(own.map((sample, index) => sample[field] / (theirs[index]?.[field] ?? Number.NaN))));
    };

    const rows = medianRows(samples);
    const ratios: BenchResult['ratios'] = {};
    const hasPortkey = subjects.some((subject) => subject.name === 'portkey');
    for (const mode of ['json', 'stream'] as const) {
      for (const connections of CONNECTIONS) {
        const suffix = `${mode}_c${connections}`;
        ratios[`groundwork_ops_over_direct_${suffix}`] = round(
          figure('groundwork', mode, connections, 'ops_per_s') / figure('direct', mode, connections, 'ops_per_s'),
        );
        ratios[`groundwork_ops_over_baseline_${suffix}`] = round(
          figure('groundwork', mode, connections, 'ops_per_s') / figure('baseline', mode, connections, 'ops_per_s'),
        );
        ratios[`groundwork_added_p50_us_${suffix}`] = addedOver('groundwork', mode, connections, 'p50_us');
        ratios[`baseline_added_p50_us_${suffix}`] = addedOver('baseline', mode, connections, 'p50_us');
        ratios[`groundwork_added_p99_us_${suffix}`] = addedOver('groundwork', mode, connections, 'p99_us');
        ratios[`groundwork_cpu_us_per_request_${suffix}`] = figure('groundwork', mode, connections, 'cpu_us_per_request');
        ratios[`baseline_cpu_us_per_request_${suffix}`] = figure('baseline', mode, connections, 'cpu_us_per_request');
        ratios[`groundwork_cpu_over_baseline_paired_${suffix}`] = pairedRatio(
          'groundwork',
          'baseline',
          mode,
          connections,
          'cpu_us_per_request',
        );
        ratios[`groundwork_cpu_over_baseline_${suffix}`] = round(
          figure('groundwork', mode, connections, 'cpu_us_per_request') / figure('baseline', mode, connections, 'cpu_us_per_request'),
        );
        if (reference !== undefined) {
          ratios[`groundwork_ops_over_reference_${suffix}`] = round(
            figure('groundwork', mode, connections, 'ops_per_s') / figure('reference', mode, connections, 'ops_per_s'),
          );
          // The median of the rounds' own ratios: both builds measured in the same round, under the same load.
          ratios[`groundwork_cpu_over_reference_paired_${suffix}`] = pairedRatio(
            'groundwork',
            'reference',
            mode,
            connections,
            'cpu_us_per_request',
          );
          ratios[`groundwork_cpu_over_reference_${suffix}`] = round(
            figure('groundwork', mode, connections, 'cpu_us_per_request') / figure('reference', mode, connections, 'cpu_us_per_request'),
          );
          ratios[`reference_cpu_us_per_request_${suffix}`] = figure('reference', mode, connections, 'cpu_us_per_request');
        }
        if (hasPortkey && subjects.find((subject) => subject.name === 'portkey')?.modes.includes(mode)) {
          ratios[`groundwork_ops_over_portkey_${suffix}`] = round(
            figure('groundwork', mode, connections, 'ops_per_s') / figure('portkey', mode, connections, 'ops_per_s'),
          );
          ratios[`groundwork_added_p50_over_portkey_${suffix}`] = round(
            addedOver('groundwork', mode, connections, 'p50_us') / addedOver('portkey', mode, connections, 'p50_us'),
          );
          ratios[`groundwork_p99_over_portkey_${suffix}`] = round(
            figure('groundwork', mode, connections, 'p99_us') / figure('portkey', mode, connections, 'p99_us'),
          );
          ratios[`groundwork_cpu_over_portkey_${suffix}`] = round(
            figure('groundwork', mode, connections, 'cpu_us_per_request') / figure('portkey', mode, connections, 'cpu_us_per_request'),
          );
        }
      }
    }
    // Streaming's extra cost per event over JSON, per request, at 32 connections.
    const events = figure('groundwork', 'stream', 32, 'events_per_answer');
    ratios.stream_events_per_answer = events;
    // Paired by round (stream and JSON measured minutes apart at most), then the median: the load moves less within a round.
    const jsonRounds = samples.get('groundwork json c=32') ?? [];
    ratios.groundwork_stream_minus_json_cpu_us_c32 = round(
      median(
        (samples.get('groundwork stream c=32') ?? []).map(
          (sample, index) => sample.cpu_us_per_request - (jsonRounds[index]?.cpu_us_per_request ?? Number.NaN),
        ),
      ),
    );
    ratios.groundwork_cpu_us_per_stream_event_c32 = round(ratios.groundwork_stream_minus_json_cpu_us_c32 / Math.max(1, events));
    Object.assign(ratios, goalFigures(ratios, CONNECTIONS));
    ratios.load_average_start = loadStart;
    ratios.load_average_end = loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
    for (const [name, note] of Object.entries(notes)) ratios[`note_${name}`] = note;
    return {
      name: 'gateway',
      description: `Chat completions through each gateway to the fake provider answering at once, on loopback: direct, a node:http + undici baseline proxy, groundwork serve (dist/, defaults, limits raised), Portkey; ${CONNECTIONS.join('/')} connections, JSON and streams; ${ROUNDS} interleaved rounds of ${DURATION_MS} ms (after a discarded warm-up round, and ${WARMUP_MS} ms warm-up before each measurement), medians; CPU is the gateway process's /proc time over the window ÷ requests; 2 cores shared by all processes.`,
      rows,
      ratios,
    };
  } finally {
    await stopAll(load, children, workDirectory);
  }
}

function portkeyVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules/@portkey-ai/gateway/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Issue 18's goals for `serve`, each as its figure and whether this run met it: req/s ≥ 3×
 * Portkey's at 1 and 32 connections, added p50 ≤ ⅓ of Portkey's, p99 at 128 connections no
 * worse than Portkey's, ≤ 200 µs of CPU per JSON request, and streams at the JSON cost plus a
 * per-chunk cost (reported). A goal whose figure this run could not measure (Portkey answered
 * nothing, say) says so rather than passing.
 */
function goalFigures(ratios: BenchResult['ratios'], connections: readonly number[]): BenchResult['ratios'] {
  const goals: BenchResult['ratios'] = {};
  const number = (key: string): number => {
    const value = ratios[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
  };
  const verdict = (value: number, met: (value: number) => boolean): string =>
    Number.isNaN(value) ? 'not measured' : met(value) ? 'met' : 'not met';
  for (const c of connections.filter((count) => count === 1 || count === 32)) {
    const ops = number(`groundwork_ops_over_portkey_json_c${c}`);
    goals[`goal_ops_over_portkey_json_c${c}`] = ops;
    goals[`goal_ops_over_portkey_json_c${c}_at_least_3`] = verdict(ops, (value) => value >= 3);
  }
  for (const c of connections) {
    const p50 = number(`groundwork_added_p50_over_portkey_json_c${c}`);
    goals[`goal_added_p50_over_portkey_json_c${c}`] = p50;
    goals[`goal_added_p50_over_portkey_json_c${c}_at_most_third`] = verdict(p50, (value) => value >= 0 && value <= 1 / 3);
  }
  if (connections.includes(128)) {
    const p99 = number('groundwork_p99_over_portkey_json_c128');
    goals.goal_p99_over_portkey_json_c128 = p99;
    goals.goal_p99_over_portkey_json_c128_at_most_1 = verdict(p99, (value) => value <= 1);
  }
  for (const c of connections) {
    const cpu = number(`groundwork_cpu_us_per_request_json_c${c}`);
    goals[`goal_cpu_us_per_json_request_c${c}`] = cpu;
    goals[`goal_cpu_us_per_json_request_c${c}_at_most_200`] = verdict(cpu, (value) => value <= 200);
    goals[`goal_cpu_us_per_stream_request_c${c}`] = number(`groundwork_cpu_us_per_request_stream_c${c}`);
  }
  goals.goal_cpu_us_per_stream_event_c32 = number('groundwork_cpu_us_per_stream_event_c32');
  return goals;
}
