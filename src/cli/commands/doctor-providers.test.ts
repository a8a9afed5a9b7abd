import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProviderServer } from '../../testing/fake-provider-server.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const GEMINI_CANARY = 'AIza-doctor-canary-5e2b7c19';
const AWS_CANARY = 'aws-doctor-canary-8d4f0a62';
const directory = mkdtempSync(join(tmpdir(), 'groundwork-doctor-providers-'));
const embedded = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}`, LLM_LEDGER: 'false' };
let fake: FakeProviderServer;

beforeAll(async () => {
  fake = await new FakeProviderServer().start();
});
afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('groundwork doctor with Gemini and Bedrock', () => {
  it('names every variable Gemini on Vertex AI and Bedrock still need, at once', async () => {
    const vertex = recordingIo({ ...embedded, LLM_PROVIDER: 'gemini', GOOGLE_GENAI_USE_VERTEXAI: 'true' });
    expect(await main(['doctor'], vertex)).toBe(1);
    expect(vertex.stdout.join('\n')).toMatch(/✘ GOOGLE_CLOUD_PROJECT\s+is required when LLM_PROVIDER=gemini/);
    expect(vertex.stdout.join('\n')).toMatch(/✘ GOOGLE_CLOUD_LOCATION\s+is required when LLM_PROVIDER=gemini/);
    const bedrock = recordingIo({ ...embedded, LLM_PROVIDER: 'bedrock', AWS_ACCESS_KEY_ID: 'AKIA1', GEMINI_BASE_URL: 'not a url' });
    expect(await main(['doctor'], bedrock)).toBe(1);
    const output = bedrock.stdout.join('\n');
    expect(output).toMatch(/✘ AWS_REGION\s+is required when LLM_PROVIDER=bedrock/);
    expect(output).toMatch(/✘ AWS_SECRET_ACCESS_KEY\s+must be set with AWS_ACCESS_KEY_ID/);
    expect(output).toMatch(/✘ GEMINI_BASE_URL/);
  });

  it.each([
    ['gemini', { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: GEMINI_CANARY, GEMINI_BASE_URL: '' }],
    [
      'bedrock',
      {
        LLM_PROVIDER: 'bedrock',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIADOCTOR',
        AWS_SECRET_ACCESS_KEY: AWS_CANARY,
        BEDROCK_BASE_URL: '',
      },
    ],
  ])('checks that %s answers, and warns when it refuses the credentials, never printing them', async (name, env) => {
    const base = name === 'gemini' ? { GEMINI_BASE_URL: fake.geminiBaseUrl } : { BEDROCK_BASE_URL: fake.bedrockEndpoint };
    fake.reset();
    const ok = recordingIo({ ...embedded, ...env, ...base });
    expect(await main(['doctor'], ok)).toBe(0);
    expect(fake.requests.some((request) => request.wire === (name === 'gemini' ? 'models' : 'bedrock'))).toBe(true);
    fake.enqueue({
      type: 'error',
      status: name === 'gemini' ? 400 : 403,
      code: name === 'gemini' ? 'API_KEY_INVALID' : 'UnrecognizedClientException',
    });
    const refused = recordingIo({ ...embedded, ...env, ...base });
    // The LLM check warns (the doctor still passes): an application may run without its LLM for a while.
    expect(await main(['doctor'], refused)).toBe(0);
    const output = [...refused.stdout, ...refused.stderr].join('\n');
    expect(output).toMatch(new RegExp(`! llm:${name}.*authentication`));
    expect([...ok.stdout, ...output].join('\n')).not.toContain(name === 'gemini' ? GEMINI_CANARY : AWS_CANARY);
  });
});
