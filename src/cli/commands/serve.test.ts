import { afterEach, describe, expect, it } from 'vitest';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { recordingIo } from '../test-io.test-helpers.js';
import { type ServeSignals, serveCommand } from './serve.js';

let fake: FakeProviderServer | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function manualSignals(): ServeSignals & { send(name: string): void } {
  let send: (name: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    send = resolve;
  });
  return { stopped, dispose: () => undefined, send: (name) => send(name) };
}

/** Polls `read` until it gives a value; the default allows an in-process serve to start on a loaded machine. */
async function waitFor<T>(read: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('groundwork serve', () => {
  it('migrates, listens on loopback without keys and says so, serves, and exits 0 on SIGTERM', async () => {
    fake = await startFakeProviderServer();
    const io = recordingIo({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'sqlite::memory:',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      PORT: '0',
    });
    const signals = manualSignals();
    const exit = serveCommand(io, signals);
    const url = await waitFor(() => io.stderr.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    expect(io.stderr.join('\n')).toContain('Applying pending migrations');
    expect(io.stderr.join('\n')).toContain('loopback');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((model) => model.id)).toContain('gpt-4o-mini');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^groundwork_process_cpu_user_seconds_total \d/m);
    expect(metrics).toMatch(/^groundwork_db_pool_connections\{state="total"\} \d/m);
    signals.send('SIGTERM');
    expect(await exit).toBe(0);
    expect(io.stderr.at(-1)).toBe('Stopped.');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 60_000);

  it('leaves migrations to the operator with DB_MIGRATE_ON_START=false, and is then not ready', async () => {
    fake = await startFakeProviderServer();
    const io = recordingIo({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'sqlite::memory:',
      DB_MIGRATE_ON_START: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      PORT: '0',
    });
    const signals = manualSignals();
    const exit = serveCommand(io, signals);
    const url = await waitFor(() => io.stderr.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    expect(io.stderr.join('\n')).not.toContain('Applying pending migrations');
    const readiness = await fetch(`${url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ checks: [{}, { name: 'database', ok: true }, { name: 'migrations', ok: false }] });
    signals.send('SIGINT');
    expect(await exit).toBe(0);
  }, 60_000);
});
