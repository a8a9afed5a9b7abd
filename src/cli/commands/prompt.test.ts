import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';
import { promptCommand } from './prompt.js';

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
});

const env = (): Record<string, string> => ({
  LLM_PROVIDER: 'openai',
  OPENAI_API_KEY: 'sk-cli-test-key-0000000000',
  OPENAI_BASE_URL: fake.openaiBaseUrl,
  DATABASE_URL: 'sqlite::memory:',
  LLM_CACHE: 'off',
});

describe('groundwork prompt', () => {
  it('prints the answer, then tokens, cost and latency', async () => {
    fake.enqueue({ type: 'answer', content: 'Hello there', usage: { promptTokens: 100, completionTokens: 20 } });
    const io = recordingIo(env());
    expect(await promptCommand({ text: 'Say hello', system: 'Be brief.' }, io)).toBe(0);
    expect(io.stdout).toEqual(['Hello there']);
    expect(io.stderr[0]).toMatch(/openai\/gpt-4o-mini · 120 tokens \(100 in, 20 out\) · \$0\.000027 · \d+ ms/);
    expect(fake.requests.at(-1)?.body).toMatchObject({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
    });
  });

  it('reads the prompt from a file and prints JSON', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'groundwork-prompt-'));
    const file = join(directory, 'prompt.txt');
    await writeFile(file, 'From a file');
    fake.enqueue({ type: 'answer', content: 'ok from file' });
    const io = recordingIo(env());
    expect(await promptCommand({ file, json: true }, io)).toBe(0);
    expect(JSON.parse(io.stdout[0] ?? '')).toMatchObject({ content: 'ok from file', usage: { costUsd: expect.any(Number) } });
  });

  it('asks for a prompt when none is given', async () => {
    const io = recordingIo(env());
    expect(await promptCommand({}, io)).toBe(2);
    expect(io.stderr[0]).toContain('--file');
  });
});

describe('groundwork prompt and the usage ledger', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'groundwork-prompt-ledger-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const fileEnv = (name: string, extra: Record<string, string> = {}) => ({
    ...env(),
    DATABASE_URL: `sqlite:${join(directory, name)}`,
    ...extra,
  });

  async function calls(variables: Record<string, string>): Promise<number> {
    const io = recordingIo(variables);
    expect(await main(['usage', '--by', 'model', '--json'], io)).toBe(0);
    const report = JSON.parse(io.stdout.join('\n')) as { rows: Array<{ calls: number }> };
    return report.rows.reduce((sum, row) => sum + row.calls, 0);
  }

  it('records the call on a database never migrated', async () => {
    fake.enqueue({ type: 'answer', content: 'Recorded' });
    const variables = fileEnv('fresh.db');
    const io = recordingIo(variables);
    expect(await promptCommand({ text: 'Say hello' }, io)).toBe(0);
    expect(io.stdout).toEqual(['Recorded']);
    expect(await calls(variables)).toBe(1);
  });

  it('with DB_MIGRATE_ON_START=false refuses before the call while the ledger table is missing', async () => {
    const before = fake.requests.length;
    const io = recordingIo(fileEnv('off.db', { DB_MIGRATE_ON_START: 'false' }));
    expect(await main(['prompt', 'Say hello'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('run `groundwork migrate`');
    expect(io.stdout).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });

  it('with the ledger off neither migrates nor refuses: it needs no table', async () => {
    fake.enqueue({ type: 'answer', content: 'No ledger' });
    const variables = fileEnv('no-ledger.db', { DB_MIGRATE_ON_START: 'false', LLM_LEDGER: 'false' });
    const io = recordingIo(variables);
    expect(await main(['prompt', 'Say hello'], io)).toBe(0);
    expect(io.stdout).toEqual(['No ledger']);
    const status = recordingIo(variables);
    expect(await main(['migrate', 'status', '--json'], status)).toBe(0);
    expect((JSON.parse(status.stdout.join('\n')) as Array<{ executedAt?: string }>).every((state) => state.executedAt === undefined)).toBe(
      true,
    );
  });

  it('reports on stderr, with exit status 1, a call the ledger failed to record', async () => {
    const variables = fileEnv('broken.db');
    expect(await main(['migrate'], recordingIo(variables))).toBe(0);
    const { default: Sqlite } = await import('better-sqlite3');
    const connection = new Sqlite(join(directory, 'broken.db'));
    connection.exec('DROP TABLE llm_usage');
    connection.close();
    fake.enqueue({ type: 'answer', content: 'Not recorded' });
    const io = recordingIo(variables);
    expect(await promptCommand({ text: 'Say hello' }, io)).toBe(1);
    expect(io.stdout).toEqual(['Not recorded']);
    expect(io.stderr.join('\n')).toMatch(/✘ usage ledger write failed; 1 rows lost/);
    expect(io.stderr.join('\n')).not.toContain('sk-cli-test-key');
  });
});
