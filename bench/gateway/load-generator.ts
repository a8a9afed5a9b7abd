import { Pool } from 'undici';

/*
 * The load generator, in its own process: undici pools, closed-loop callers (one request in
 * flight per connection), latency per request. Driven over IPC by `gateway.bench.ts`.
 */

/** One measurement: `connections` callers POST `body(n)` to `url` for `durationMs` after `warmupMs`. */
export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  stream: boolean;
  /**
   * Asks the fake provider for an answer of this many text deltas (the prompt says `pieces=N`, which
   * `fake-upstream.ts` reads); absent: the fake's default answer.
   */
  pieces?: number;
}

export interface LoadResult {
  count: number;
  errors: number;
  /** Status of the first failed request, if any. */
  errorStatus: number | undefined;
  seconds: number;
  latenciesUs: number[];
  /** `data:` events per streamed answer (0 for JSON). */
  eventsPerAnswer: number;
}

const pools = new Map<string, Pool>();
let sequence = 0;

function poolFor(origin: string, connections: number): Pool {
  const key = `${origin} ${connections}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    pools.set(key, pool);
  }
  return pool;
}

/** A distinct prompt per request: the response cache (on by default) never answers. */
function body(stream: boolean, pieces: number | undefined): string {
  sequence++;
  const asked = pieces === undefined ? '' : ` pieces=${pieces}`;
  return JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `Say hello to caller ${process.pid}-${sequence}.${asked}` }],
    max_tokens: 16,
    ...(stream ? { stream: true } : {}),
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const pool = poolFor(url.origin, job.connections);
  const latencies: number[] = [];
  let errors = 0;
  let errorStatus: number | undefined;
  let events = 0;
  let answers = 0;
  let measuring = false;
  let stop = false;
  const once = async (): Promise<void> => {
    const started = process.hrtime.bigint();
    let ok = false;
    try {
      const answer = await pool.request({ method: 'POST', path: url.pathname, headers: job.headers, body: body(job.stream, job.pieces) });
      const text = await answer.body.text();
      ok = answer.statusCode === 200;
      if (!ok) errorStatus ??= answer.statusCode;
      if (ok && job.stream && measuring) {
        answers++;
        for (let index = text.indexOf('data:'); index !== -1; index = text.indexOf('data:', index + 5)) events++;
      }
    } catch {
      errorStatus ??= 0;
    }
    if (!measuring) return;
    if (ok) latencies.push(Number(process.hrtime.bigint() - started) / 1000);
    else errors++;
  };
  const caller = async (): Promise<void> => {
    while (!stop) await once();
  };
  const callers = Array.from({ length: job.connections }, caller);
  await new Promise((resolve) => setTimeout(resolve, job.warmupMs));
  measuring = true;
  // The parent reads the gateway's CPU time around this window.
  process.send?.({ type: 'measuring' });
  const began = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, job.durationMs));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  process.send?.({ type: 'measured' });
  stop = true;
  await Promise.all(callers);
  return {
    count: latencies.length,
    errors,
    errorStatus,
    seconds,
    latenciesUs: latencies,
    eventsPerAnswer: answers === 0 ? 0 : events / answers,
  };
}

process.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ type: 'result', result }),
    (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
  );
});
process.on('disconnect', () => {
  for (const pool of pools.values()) void pool.destroy();
  process.exit(0);
});
