import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';

/** The built CLI, as users run it (`npm run build` makes it). */
const BUILT_BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

let fake: FakeProviderServer | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await fake?.close();
  fake = undefined;
});

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs `groundwork serve` with `SERVER_LOG_FLUSH_MS=flushMs`, answers two `/v1/models` requests,
 * stops it with `signal`, and returns the messages of the JSON lines it wrote on stdout.
 */
async function serveOnce(flushMs: string, signal: NodeJS.Signals): Promise<string[]> {
  expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run npm run build first`).toBe(true);
  await fake?.close();
  fake = await startFakeProviderServer();
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
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = serve;
  let stdout = '';
  let stderr = '';
  serve.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  serve.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => serve.on('close', () => resolve()));
  const url = await waitFor(() => stderr.match(/listening on (http:\/\/[^\s]+)/)?.[1], `serve to listen; stderr: ${stderr}`);
  // A request's line is logged when its connection closes, which can come after the answer:
  // by the time a second answer arrives, the first request's line has been logged.
  for (let request = 0; request < 2; request++) expect((await fetch(`${url}/v1/models`)).status).toBe(200);
  serve.kill(signal);
  await exited;
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('groundwork serve log lines', () => {
  it('holds access-log lines, and writes them when it stops gracefully', async () => {
    const written = await serveOnce('60000', 'SIGTERM');
    expect(written).toContain('request');
    expect(written.at(-1)).toBe('server closed');
  }, 60_000);

  it('loses held lines to a SIGKILL, which SERVER_LOG_FLUSH_MS=0 avoids', async () => {
    expect(await serveOnce('60000', 'SIGKILL')).not.toContain('request');
    expect(await serveOnce('0', 'SIGKILL')).toContain('request');
  }, 60_000);
});
