/**
 * What the gateway benchmark and its slice script share: the caller key `serve` is started with,
 * its environment, a free port, its CPU time and waiting for it to answer.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The key callers present to `serve` in the benchmarks. */
export const GATEWAY_KEY = 'gw-bench-key';

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The environment `serve` runs with in the benchmarks: its defaults, the fake provider at
 * `fakeUrl`, listening on `port`, with the limits raised that would otherwise make a benchmark
 * measure the limiter's waiting (2,500 requests a minute, 10 at once); `extra` last.
 */
export function serveEnvironment(fakeUrl: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-upstream',
    OPENAI_BASE_URL: fakeUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    GROUNDWORK_API_KEYS: GATEWAY_KEY,
    HOST: '127.0.0.1',
    PORT: String(port),
    LLM_REQUESTS_PER_MINUTE: '10000000',
    LLM_MAX_CONCURRENT: '512',
    ...extra,
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * CPU seconds a process has run so far: the sum over its threads of the scheduler's own count, in
 * nanoseconds (`/proc/PID/task/TID/schedstat`), else user + system time from `/proc/PID/stat`,
 * counted in clock ticks of 10 ms. At 1 connection a window holds some 60 ticks, so a tick either
 * way moved a sample by ~2%; the threads' count has no such step. Threads that end during a window
 * would take their time with them, but the gateways' threads (V8's workers, libuv's) live as long
 * as the process.
 */
export function cpuSeconds(pid: number): number {
  try {
    let nanoseconds = 0;
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(nanoseconds) && nanoseconds > 0) return nanoseconds / 1e9;
  } catch {
    // no scheduler statistics in this kernel: clock ticks below
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resolves once `url` answers below 500; fails when `child` exits first or after `timeoutMs`. */
export async function waitForHttp(url: string, what: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
