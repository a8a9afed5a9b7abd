import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadGenerator, median, medianRows, type Sample, startUpstreams, stopAll, summarise } from './gateway/gateway-run.js';
import { freePort, GATEWAY_KEY, serveEnvironment, waitForHttp } from './gateway/serve-process.js';
import { type BenchResult, round } from './harness.js';

/*
 * `npm run bench -- gateway-streams`: what a streamed answer costs `groundwork serve` over a JSON
 * one, split into a cost per stream and a cost per event. The gateway benchmark streams one length
 * of answer (5 events) and can only divide the difference by it; here each subject answers, in
 * interleaved rounds, a JSON request and streams of two lengths (the fake provider sends
 * SHORT_PIECES and LONG_PIECES text deltas, asked for in the prompt), and each round's figures are
 * fitted to `CPU(stream of n events) = CPU(JSON) + fixed + n × per event`: the per-event cost is
 * the slope between the two lengths, `fixed` what a stream costs over JSON before its events.
 * Subjects: the node:http + undici baseline proxy (which relays the bytes) and `groundwork serve`
 * from `dist/` with the gateway benchmark's settings. Figures are medians over rounds of each
 * round's own fit. Knobs: GATEWAY_STREAMS_ROUNDS (default 5), GATEWAY_STREAMS_CONNECTIONS
 * (default `1,32`), GATEWAY_STREAMS_DURATION_MS (default 1200).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.GATEWAY_STREAMS_ROUNDS ?? 5);
const CONNECTIONS = (process.env.GATEWAY_STREAMS_CONNECTIONS ?? '1,32').split(',').map(Number);
const DURATION_MS = Number(process.env.GATEWAY_STREAMS_DURATION_MS ?? 1200);
const WARMUP_MS = 300;
const SHORT_PIECES = 4;
const LONG_PIECES = 64;

type Shape = 'json' | 'short' | 'long';
const SHAPES: readonly Shape[] = ['json', 'short', 'long'];

interface Subject {
  name: 'baseline' | 'groundwork';
  url: string;
  headers: Record<string, string>;
  pid: number;
}

/** The load for one shape of answer: JSON with the fake's default text, or a stream of so many text deltas. */
function shapeJob(shape: Shape): { stream: boolean; pieces?: number } {
  if (shape === 'json') return { stream: false };
  return { stream: true, pieces: shape === 'short' ? SHORT_PIECES : LONG_PIECES };
}

export default async function gatewayStreamsBench(): Promise<BenchResult> {
  const serveEntry = join(root, 'dist/cli/bin.js');
  if (!existsSync(serveEntry))
    throw new Error('dist/ is missing: run `npm run build` first (the benchmark runs groundwork serve from dist/)');
  const children: ChildProcess[] = [];
  const workDirectory = mkdtempSync(join(tmpdir(), 'groundwork-gateway-streams-'));
  const load = new LoadGenerator();
  const loadStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  try {
    const { fakeUrl, baseline, baselinePort } = await startUpstreams(children);

    const servePort = await freePort();
    const serve = spawn(process.execPath, [serveEntry, 'serve'], {
      cwd: workDirectory,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: serveEnvironment(fakeUrl, servePort),
    });
    children.push(serve);
    await waitForHttp(`http://127.0.0.1:${servePort}/readyz`, 'groundwork serve', serve);

    const json = { 'content-type': 'application/json' };
    const subjects: Subject[] = [
      { name: 'baseline', url: `http://127.0.0.1:${baselinePort}/v1/chat/completions`, headers: json, pid: baseline.pid! },
      {
        name: 'groundwork',
        url: `http://127.0.0.1:${servePort}/v1/chat/completions`,
        headers: { ...json, authorization: `Bearer ${GATEWAY_KEY}` },
        pid: serve.pid!,
      },
    ];

    const measure = async (subject: Subject, shape: Shape, connections: number, warmupMs: number): Promise<Sample> => {
      const { result, cpuSeconds } = await load.run(
        { url: subject.url, headers: subject.headers, connections, warmupMs, durationMs: DURATION_MS, ...shapeJob(shape) },
        subject.pid,
      );
      if (result.count === 0) {
        const failure = result.errorStatus === undefined ? '' : ` (the first failed with status ${result.errorStatus})`;
        throw new Error(`${subject.name} answered no ${shape} request within ${DURATION_MS} ms${failure}`);
      }
      return summarise(result, cpuSeconds);
    };

    // A discarded first round: each process's JIT warms up here rather than in the first measured round.
    for (const shape of SHAPES) for (const subject of subjects) await measure(subject, shape, Math.max(...CONNECTIONS), 0);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        // Shapes and subjects in a different order each round: none always runs right after the same one.
        const shapes = SHAPES.map((_, index) => SHAPES[(index + round) % SHAPES.length] as Shape);
        for (const shape of shapes) {
          const order = round % 2 === 0 ? subjects : [...subjects].reverse();
          for (const subject of order) {
            const key = `${subject.name} ${shape} c=${connections}`;
            samples.set(key, [...(samples.get(key) ?? []), await measure(subject, shape, connections, WARMUP_MS)]);
          }
        }
      }
    }

    const rows = medianRows(samples);

    const ratios: BenchResult['ratios'] = {};
    for (const connections of CONNECTIONS) {
      const fits = new Map<Subject['name'], Array<{ perEvent: number; fixed: number; fixedShare: number }>>();
      for (const subject of subjects) {
        const of = (shape: Shape): Sample[] => samples.get(`${subject.name} ${shape} c=${connections}`) ?? [];
        const [jsonRounds, shortRounds, longRounds] = [of('json'), of('short'), of('long')];
        const roundFits = jsonRounds.map((jsonSample, index) => {
          const short = shortRounds[index] as Sample;
          const long = longRounds[index] as Sample;
          const perEvent = (long.cpu_us_per_request - short.cpu_us_per_request) / (long.events_per_answer - short.events_per_answer);
          const fixed = short.cpu_us_per_request - short.events_per_answer * perEvent - jsonSample.cpu_us_per_request;
          return { perEvent, fixed, fixedShare: fixed / jsonSample.cpu_us_per_request };
        });
        fits.set(subject.name, roundFits);
        const suffix = `c${connections}`;
        ratios[`${subject.name}_cpu_us_per_request_json_${suffix}`] = round(median(jsonRounds.map((sample) => sample.cpu_us_per_request)));
        ratios[`${subject.name}_cpu_us_per_stream_event_${suffix}`] = round(median(roundFits.map((fit) => fit.perEvent)));
        ratios[`${subject.name}_stream_fixed_cpu_us_over_json_${suffix}`] = round(median(roundFits.map((fit) => fit.fixed)));
        // The goal's "a stream at the JSON cost": what a stream costs once, over JSON, as a share of a JSON request.
        ratios[`${subject.name}_stream_fixed_share_of_json_${suffix}`] = round(median(roundFits.map((fit) => fit.fixedShare)));
      }
      const own = fits.get('groundwork') ?? [];
      const floor = fits.get('baseline') ?? [];
      ratios[`groundwork_per_event_over_baseline_paired_c${connections}`] = round(
        median(own.map((fit, index) => fit.perEvent / (floor[index]?.perEvent ?? Number.NaN))),
      );
    }
    ratios.events_per_short_stream = round(
      median((samples.get(`groundwork short c=${CONNECTIONS[0]}`) ?? []).map((s) => s.events_per_answer)),
    );
    ratios.events_per_long_stream = round(
      median((samples.get(`groundwork long c=${CONNECTIONS[0]}`) ?? []).map((s) => s.events_per_answer)),
    );
    ratios.load_average_start = loadStart;
    ratios.load_average_end = loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
    return {
      name: 'gateway-streams',
      description: `CPU of a streamed chat completion over a JSON one, through the baseline proxy and groundwork serve (dist/, the gateway benchmark's settings) to the fake provider answering at once: JSON, and streams of ${SHORT_PIECES} and ${LONG_PIECES} text deltas; ${CONNECTIONS.join('/')} connections; ${ROUNDS} interleaved rounds of ${DURATION_MS} ms after a discarded warm-up round; each round fitted to CPU(stream of n events) = CPU(JSON) + fixed + n × per event; medians over rounds; CPU is the gateway process's scheduler time over the window ÷ requests; 2 cores shared by all processes.`,
      rows,
      ratios,
    };
  } finally {
    await stopAll(load, children, workDirectory);
  }
}
