import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runNode } from '../../../test/node-process.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';

const CANARY = 'sk-doctor-canary-93be1a7c55d04f1e';
const directory = mkdtempSync(join(tmpdir(), 'groundwork-doctor-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const embedded = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };
const RECORD_IMPORTS = fileURLToPath(new URL('../../../test/record-imports.mjs', import.meta.url));

describe('groundwork doctor', () => {
  it('passes on the embedded defaults and says the LLM is not configured and how to configure it', async () => {
    const io = recordingIo(embedded);
    expect(await main(['doctor'], io)).toBe(0);
    const output = io.stdout.join('\n');
    expect(output).toMatch(/✔ configuration\s+valid/);
    expect(output).toContain('no LLM provider configured; set OPENAI_API_KEY');
    expect(output).toMatch(/^OK: 0 failed/m);
  });

  it('loads no provider adapter SDK and no HTTP client when no provider is configured', async () => {
    const result = await runNode(CLI_BIN, ['doctor'], { nodeArgs: ['--import', RECORD_IMPORTS], env: embedded, cwd: directory });
    expect(result.code).toBe(0);
    const loaded = result.stderr.split('\n').filter((line) => line.startsWith('loaded '));
    // The recorder works: the LLM client itself and the database driver were seen.
    expect(loaded.some((line) => line.endsWith('/src/llm/llm-client.ts'))).toBe(true);
    expect(loaded.some((line) => line.includes('/node_modules/better-sqlite3/'))).toBe(true);
    expect(
      loaded.filter((line) => /\/node_modules\/(openai|@anthropic-ai\/sdk|@google\/genai|@aws-sdk\/[^/]+|undici)\//.test(line)),
    ).toEqual([]);
  });

  it('fails with exit status 1, one line per bad variable, and never prints a secret', async () => {
    const io = recordingIo({
      ...embedded,
      LLM_PROVIDER: 'anthropic',
      OPENAI_API_KEY: CANARY,
      DB_POOL_SIZE: 'lots',
      DATABASE_URL: `mysql://root:${CANARY}@db/app`,
    });
    expect(await main(['doctor'], io)).toBe(1);
    const output = io.stdout.join('\n');
    expect(output).toMatch(/✘ DB_POOL_SIZE\s+must be a whole number/);
    expect(output).toMatch(/✘ ANTHROPIC_API_KEY\s+is required when LLM_PROVIDER=anthropic/);
    expect(output).toMatch(/✘ DATABASE_URL/);
    expect(output).toMatch(/^FAILED/m);
    expect([...io.stdout, ...io.stderr].join('\n')).not.toContain(CANARY);
  });

  it('prints a machine-readable report with --json', async () => {
    const io = recordingIo({ ...embedded, PORT: 'eighty' });
    expect(await main(['doctor', '--json'], io)).toBe(1);
    const report = JSON.parse(io.stdout.join('\n')) as { ok: boolean; checks: Array<{ name: string; outcome: string }> };
    expect(report.ok).toBe(false);
    expect(report.checks).toContainEqual(expect.objectContaining({ name: 'PORT', outcome: 'fail' }));
  });

  it('rejects unknown commands and flags with usage and exit status 2', async () => {
    const unknown = recordingIo({});
    expect(await main(['frobnicate'], unknown)).toBe(2);
    expect(unknown.stderr.join('\n')).toContain('Unknown command "frobnicate"');
    const badFlag = recordingIo({});
    expect(await main(['doctor', '--verbose'], badFlag)).toBe(2);
    expect(badFlag.stderr.join('\n')).toContain('Usage: groundwork');
  });
});

describe('groundwork config', () => {
  it('prints the resolved configuration with secrets redacted', async () => {
    const io = recordingIo({ ...embedded, OPENAI_API_KEY: CANARY });
    expect(await main(['config'], io)).toBe(0);
    const printed = JSON.parse(io.stdout.join('\n')) as { llm: { openai: { apiKey: string } } };
    expect(printed.llm.openai.apiKey).toBe('[redacted]');
    expect(io.stdout.join('\n')).not.toContain(CANARY);
  });

  it('prints the variable table for the README', async () => {
    const io = recordingIo({});
    expect(await main(['config', '--markdown'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/\| `DB_POOL_SIZE` \| `5` \|/);
  });
});
