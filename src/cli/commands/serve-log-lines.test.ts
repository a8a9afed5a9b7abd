import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HELD_BYTES } from '../../observability/held-lines.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';

/** The built CLI, as users run it (`npm run build` makes it). */
const BUILT_BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

let fake: FakeProviderServer | undefined;
let child: ChildProcess | undefined;
let directory: string | undefined;

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await fake?.close();
  fake = undefined;
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

async function waitFor<T>(read: () => T | undefined, what: () => string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A running `groundwork serve`, its stdout and stderr written to one file in the order written. */
interface Serve {
  url: string;
  /** Everything written so far. */
  text(): string;
  /** Everything written so far, one entry a line: a JSON line's `msg`, or the text of a stderr line. */
  lines(): string[];
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the signal that ended the process, or null when it exited. */
  exited: Promise<NodeJS.Signals | null>;
}

/** Starts `groundwork serve` with `SERVER_LOG_FLUSH_MS=flushMs` and waits for it to listen. */
async function startServe(flushMs: string): Promise<Serve> {
  expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run npm run build first`).toBe(true);
  await fake?.close();
  fake = await startFakeProviderServer();
  directory ??= mkdtempSync(join(tmpdir(), 'serve-log-lines-'));
  const file = join(directory, `output-${flushMs}-${Date.now()}`);
  const fd = openSync(file, 'w');
  const serve = spawn(process.execPath, [BUILT_BIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      SERVER_LOG_FLUSH_MS: flushMs,
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-log-lines-00000000000000',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      PORT: '0',
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child = serve;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => serve.on('exit', (_code, signal) => resolve(signal)));
  const text = (): string => readFileSync(file, 'utf8');
  const lines = (): string[] =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line));
  const url = await waitFor(
    () => text().match(/listening on (http:\/\/[^\s]+)/)?.[1],
    () => `serve to listen; output: ${text()}`,
  );
  return { url, text, lines, kill: (signal) => serve.kill(signal), exited };
}

/** Asks for `/v1/models` twice. A request's line is logged when its connection closes, which can come after the answer: by the time a second answer arrives, the first request's line has been logged. */
async function twoRequests(url: string): Promise<void> {
  for (let request = 0; request < 2; request++) expect((await fetch(`${url}/v1/models`)).status).toBe(200);
}

describe('groundwork serve log lines', () => {
  it('holds access-log lines, and writes them when a stop signal arrives, before what it says on stderr', async () => {
    const serve = await startServe('60000');
    await twoRequests(serve.url);
    serve.kill('SIGTERM');
    expect(await serve.exited).toBeNull();
    const lines = serve.lines();
    const received = lines.indexOf('SIGTERM received: finishing requests in flight, then closing…');
    expect(received, lines.join('\n')).toBeGreaterThan(0);
    expect(lines.lastIndexOf('request'), lines.join('\n')).toBeGreaterThan(0);
    expect(lines.lastIndexOf('request'), lines.join('\n')).toBeLessThan(received);
    expect(lines.slice(-2), lines.join('\n')).toEqual(['server closed', 'Stopped.']);
  }, 60_000);

  it('writes the lines held during the drain when a second stop signal ends it', async () => {
    const serve = await startServe('60000');
    (fake as FakeProviderServer).enqueue({ type: 'hang' });
    const inFlight = fetch(`${serve.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    }).catch((error: unknown) => error);
    await waitFor(
      () => ((fake as FakeProviderServer).requests.length > 0 ? true : undefined),
      () => 'the call to reach the provider',
    );
    serve.kill('SIGTERM');
    await waitFor(
      () => (serve.lines().some((line) => line.startsWith('SIGTERM received')) ? true : undefined),
      () => `serve to start draining; output: ${serve.lines().join('\n')}`,
    );
    serve.kill('SIGTERM');
    expect(await serve.exited).toBe('SIGTERM');
    await inFlight;
    const lines = serve.lines();
    expect(lines, lines.join('\n')).toContain('shutting down: no new connections, finishing requests in flight');
    expect(lines, lines.join('\n')).not.toContain('Stopped.');
  }, 60_000);

  it('writes the lines it holds when SIGHUP arrives, then ends by that signal', async () => {
    const serve = await startServe('60000');
    await twoRequests(serve.url);
    serve.kill('SIGHUP');
    expect(await serve.exited).toBe('SIGHUP');
    const lines = serve.lines();
    const listening = lines.findIndex((line) => line.startsWith('Groundwork listening on'));
    expect(lines.lastIndexOf('request'), lines.join('\n')).toBeGreaterThan(listening);
    expect(lines, lines.join('\n')).not.toContain('Stopped.');
  }, 60_000);

  it('leaves SIGQUIT to its default: it ends serve at once, without writing the lines it holds', async () => {
    const serve = await startServe('60000');
    await twoRequests(serve.url);
    serve.kill('SIGQUIT');
    expect(await serve.exited).toBe('SIGQUIT');
    const lines = serve.lines();
    const listening = lines.findIndex((line) => line.startsWith('Groundwork listening on'));
    expect(lines.lastIndexOf('request'), lines.join('\n')).toBeLessThan(listening);
  }, 60_000);

  it('loses held lines to a SIGKILL, which SERVER_LOG_FLUSH_MS=0 avoids', async () => {
    const unheld = await startServe('0');
    await twoRequests(unheld.url);
    unheld.kill('SIGKILL');
    expect(await unheld.exited).toBe('SIGKILL');
    expect(unheld.lines()).toContain('request');
    // Held, the log lines after serve's last message on stderr are what the kill takes: unless
    // they reach HELD_BYTES, which writes them without waiting.
    const written = unheld.text().split('\n');
    const lastMessage = written.findLastIndex((line) => line !== '' && !line.startsWith('{'));
    const logged = Buffer.byteLength(written.slice(lastMessage + 1).join('\n'));
    expect(logged, `the requests log ${logged} bytes, which a held server writes once ${HELD_BYTES} gather`).toBeLessThan(HELD_BYTES);

    const held = await startServe('60000');
    await twoRequests(held.url);
    held.kill('SIGKILL');
    expect(await held.exited).toBe('SIGKILL');
    expect(held.lines()).not.toContain('request');
  }, 60_000);
});
