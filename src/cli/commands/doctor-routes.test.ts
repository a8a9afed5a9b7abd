import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const EU_CANARY = 'sk-doctor-route-eu-3b9f61d2a7c8';
const GEMINI_CANARY = 'AIza-doctor-route-7e1c04b5';
const directory = mkdtempSync(join(tmpdir(), 'groundwork-doctor-routes-'));
const embedded = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}`, LLM_LEDGER: 'false', OPENAI_API_KEY: 'sk-primary' };
let fake: FakeProviderServer;

beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('groundwork doctor with a routes file', () => {
  it('checks every deployment of every group, one line each, never printing their keys', async () => {
    const routes = join(directory, 'routes.json');
    writeFileSync(
      routes,
      JSON.stringify({
        groups: {
          'chat-fast': {
            deployments: [
              { name: 'eu', provider: 'openai', model: 'gpt-4o-mini', baseUrl: fake.openaiBaseUrl, apiKeyEnv: 'EU_KEY' },
              { name: 'gemini', provider: 'gemini', model: 'gemini-2.5-flash', baseUrl: fake.geminiBaseUrl, apiKeyEnv: 'GEMINI_KEY' },
              { name: 'gone', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'EU_KEY' },
            ],
          },
        },
      }),
    );
    const io = recordingIo({
      ...embedded,
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      GROUNDWORK_ROUTES: routes,
      EU_KEY: EU_CANARY,
      GEMINI_KEY: GEMINI_CANARY,
    });
    await main(['doctor'], io);
    const output = io.stdout.join('\n');
    expect(output).toMatch(/✔ llm:chat-fast\/eu\s+openai gpt-4o-mini answers/);
    expect(output).toMatch(/✔ llm:chat-fast\/gemini\s+gemini gemini-2.5-flash answers/);
    expect(output).toMatch(/llm:chat-fast\/gone\s+openai gpt-4o-mini: /);
    expect(output).toContain('check the key in EU_KEY');
    for (const text of [output, io.stderr.join('\n')]) {
      expect(text).not.toContain(EU_CANARY);
      expect(text).not.toContain(GEMINI_CANARY);
    }
  });

  it('names every problem of a bad routes file on its own line', async () => {
    const routes = join(directory, 'bad-routes.json');
    writeFileSync(
      routes,
      JSON.stringify({ groups: { g: { deployments: [{ provider: 'openia', model: 'm', apiKey: EU_CANARY, rpm: 0 }] } } }),
    );
    const io = recordingIo({ ...embedded, GROUNDWORK_ROUTES: routes });
    expect(await main(['doctor'], io)).toBe(1);
    const output = io.stdout.join('\n');
    expect(output).toMatch(/✘ .*bad-routes\.json: groups\.g\.deployments\[0\]\.provider\s+must be one of/);
    expect(output).toMatch(/✘ .*bad-routes\.json: groups\.g\.deployments\[0\]\.apiKey\s+secrets are never written/);
    expect(output).toMatch(/✘ .*bad-routes\.json: groups\.g\.deployments\[0\]\.rpm\s+must be a whole number/);
    expect(output).not.toContain(EU_CANARY);
  });
});
