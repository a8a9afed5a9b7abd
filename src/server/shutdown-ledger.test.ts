import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeSignals, serveCommand } from '../cli/commands/serve.js';
import { recordingIo } from '../cli/test-io.test-helpers.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';

const directory = mkdtempSync(join(tmpdir(), 'groundwork-shutdown-ledger-'));
let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

function manualSignals(): ServeSignals & { send(name: string): void } {
  let send: (name: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    send = resolve;
  });
  return { stopped, dispose: () => undefined, send: (name) => send(name) };
}

async function waitFor<T>(read: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('groundwork serve, shut down while streams are in flight', () => {
  it('records every call that reached the provider, the cut ones as cancelled with the usage known so far', async () => {
    const database = join(directory, 'app.db');
    const io = recordingIo({
      LOG_LEVEL: 'silent',
      DATABASE_URL: `sqlite:${database}`,
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-shutdown-ledger-000000000',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_CACHE: 'off',
      PORT: '0',
      SERVER_SHUTDOWN_TIMEOUT_MS: '200',
    });
    const signals = manualSignals();
    const exit = serveCommand(io, signals);
    const url = await waitFor(() => io.stderr.join('\n').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    const streams = 6;
    fake.setHandler(async () => ({ type: 'hang', afterChunks: 2 }));
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${url}/v1`, maxRetries: 0 });
    const readers = Array.from({ length: streams }, async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Go on.' }],
        stream: true,
      });
      try {
        for await (const _chunk of stream);
      } catch {
        // The server cuts the stream at the shutdown timeout.
      }
    });
    await fake.waitForRequests(streams);
    await new Promise((resolve) => setTimeout(resolve, 100));
    signals.send('SIGTERM');
    expect(await exit).toBe(0);
    await Promise.all(readers);
    const sqlite = new Sqlite(database, { readonly: true });
    const rows = sqlite.prepare('select outcome, prompt_tokens, completion_tokens from llm_usage').all() as Array<{
      outcome: string;
      prompt_tokens: number;
      completion_tokens: number;
    }>;
    sqlite.close();
    expect(rows).toHaveLength(streams);
    for (const row of rows) {
      expect(row.outcome).toBe('cancelled');
      expect(row.completion_tokens).toBeGreaterThan(0);
    }
  }, 30_000);
});
