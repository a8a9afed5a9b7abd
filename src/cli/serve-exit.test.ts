import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeProviderServer, startFakeProviderServer } from '../testing/fake-provider-server.js';

/** The built CLI, as users run it (`npm run build` makes it; CI builds before it tests). */
const BUILT_BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
/** Says on stderr when the process emits `exit`: the moment it stops doing anything but tearing itself down. */
const SAY_EXIT = `data:text/javascript,process.on('exit',()=>process.stderr.write('exiting\\n'))`;

let fake: FakeProviderServer | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await fake?.close();
  fake = undefined;
});

/** When each line of the child's stderr arrived, in ms on `performance.now()`. */
interface Line {
  text: string;
  at: number;
}

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('groundwork serve in its own process', () => {
  it('exits promptly after "Stopped." once it has made LLM calls: neither pooled sockets nor V8 background work hold it', async () => {
    expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run npm run build first`).toBe(true);
    fake = await startFakeProviderServer();
    const serve = spawn(process.execPath, ['--import', SAY_EXIT, BUILT_BIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-exit-0000000000000000',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = serve;
    const lines: Line[] = [];
    let partial = '';
    serve.stderr?.on('data', (chunk: Buffer) => {
      const at = performance.now();
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) lines.push({ text, at });
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      serve.on('exit', (code) => resolve({ code, at: performance.now() })),
    );
    // 'exit' may come before the parent has read the last of stderr from the pipe: every line is in once stdio closed.
    const closed = new Promise<void>((resolve) => serve.on('close', () => resolve()));
    const url = await waitFor(
      () => lines.map((line) => line.text.match(/listening on (http:\/\/[^\s]+)/)?.[1]).find(Boolean),
      `serve to listen; stderr so far: ${lines.map((line) => line.text).join('\n')}`,
    );

    // One plain call and one streamed call: each leaves a keep-alive socket to the provider in the SDK's pool.
    const json = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(json.status).toBe(200);
    const streamed = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('data: [DONE]');
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);

    serve.kill('SIGTERM');
    const exit = await exited;
    await closed;
    const stopped = lines.find((line) => line.text === 'Stopped.');
    expect(stopped, lines.map((line) => line.text).join('\n')).toBeDefined();
    expect(exit.code).toBe(0);
    // Nothing (a pooled socket, V8's background work) holds the process once it has stopped…
    const exiting = lines.find((line) => line.text === 'exiting');
    expect(exiting, lines.map((line) => line.text).join('\n')).toBeDefined();
    expect((exiting as Line).at - (stopped as Line).at).toBeLessThan(500);
    // …and then it is gone. Tearing a process down takes a moment of CPU, which a loaded machine
    // can stretch to seconds: this bound catches a hang, the one above the lingering.
    expect(exit.at - (stopped as Line).at).toBeLessThan(10_000);
  }, 60_000);
});
