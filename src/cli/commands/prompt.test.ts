import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
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
