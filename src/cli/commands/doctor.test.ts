import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runNode } from '../../../test/node-process.js';
import { redisUrl } from '../../../test/services.js';
import { ConfigSource } from '../../config/load-config.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { HealthReport } from '../../observability/health.js';
import { silentLogger } from '../../observability/logger.js';
import { main } from '../main.js';
import { recordingIo } from '../test-io.test-helpers.js';
import { isEmbeddedDefaults, openEmbeddedChecks } from './doctor-embedded.js';

const CANARY = 'sk-doctor-canary-93be1a7c55d04f1e';
const directory = mkdtempSync(join(tmpdir(), 'groundwork-doctor-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const embedded = { DATABASE_URL: `sqlite:${join(directory, 'app.db')}` };
const RECORD_IMPORTS = fileURLToPath(new URL('../../../test/record-imports.mjs', import.meta.url));

/** Runs `groundwork doctor` in its own process with `env`; returns its output and every module it loaded. */
async function doctorLoading(env: Record<string, string>): Promise<{ code: number | null; stdout: string; loaded: string[] }> {
  const file = join(directory, `imports-${Math.random().toString(36).slice(2)}.txt`);
  const result = await runNode(CLI_BIN, ['doctor'], {
    nodeArgs: ['--import', RECORD_IMPORTS],
    env: { ...env, RECORD_IMPORTS_FILE: file },
    cwd: directory,
  });
  const loaded = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('loaded '));
  return { code: result.code, stdout: result.stdout, loaded };
}

describe('groundwork doctor', () => {
  it('passes on the embedded defaults and says the LLM is not configured and how to configure it', async () => {
    const io = recordingIo(embedded);
    expect(await main(['doctor'], io)).toBe(0);
    const output = io.stdout.join('\n');
    expect(output).toMatch(/✔ configuration\s+valid/);
    expect(output).toContain('no LLM provider configured; set OPENAI_API_KEY');
    expect(output).toMatch(/^OK: 0 failed/m);
  });

  it('checks the embedded defaults on the SQLite driver: no query builder, LLM client, provider adapter or SDK loads', async () => {
    const { code, stdout, loaded } = await doctorLoading(embedded);
    expect(code).toBe(0);
    expect(stdout).toMatch(/✔ database\s+reachable \(sqlite, [\d.]+ ms\)/);
    // The recorder works: the doctor itself and the database driver were seen.
    expect(loaded.some((line) => line.endsWith('/src/cli/commands/doctor.ts'))).toBe(true);
    expect(loaded.some((line) => line.includes('/node_modules/better-sqlite3/'))).toBe(true);
    expect(
      loaded.filter((line) =>
        /\/node_modules\/(openai|@anthropic-ai\/sdk|@google\/genai|@aws-sdk\/[^/]+|undici|kysely|pino|prom-client|yaml)\//.test(line),
      ),
    ).toEqual([]);
    expect(
      loaded.filter((line) =>
        /\/src\/(create-infrastructure\.ts|llm\/llm-client\.ts|llm\/providers\/(?!provider-settings)|tenants\/|jobs\/|routing\/)/.test(
          line,
        ),
      ),
    ).toEqual([]);
  });

  it('loads the LLM client but no provider adapter when it opens the infrastructure with no provider configured', async () => {
    // Redis takes the doctor past the embedded defaults, through createInfrastructure.
    const { code, stdout, loaded } = await doctorLoading({ ...embedded, REDIS_URL: redisUrl() });
    expect(code).toBe(0);
    expect(stdout).toMatch(/✔ redis\s+/);
    expect(loaded.some((line) => line.endsWith('/src/llm/llm-client.ts'))).toBe(true);
    expect(loaded.some((line) => line.includes('/node_modules/kysely/'))).toBe(true);
    // Nor the adapters' factory or any adapter (the jobs' batch clients share some of their translators).
    expect(
      loaded.filter((line) =>
        /\/src\/llm\/providers\/(create-provider|[^/]+\/(openai|anthropic|gemini|bedrock|openai-compatible)-provider)\.ts$/.test(line),
      ),
    ).toEqual([]);
    expect(
      loaded.filter((line) => /\/node_modules\/(openai|@anthropic-ai\/sdk|@google\/genai|@aws-sdk\/[^/]+|undici)\//.test(line)),
    ).toEqual([]);
  });

  it('reports on the SQLite driver exactly what the infrastructure reports on the embedded defaults', async () => {
    const source = new ConfigSource({ env: embedded });
    const config = source.load();
    expect(isEmbeddedDefaults(config)).toBe(true);
    const comparable = (report: HealthReport) =>
      report.dependencies.map(({ latencyMs, info, ...rest }) => ({
        ...rest,
        latency: typeof latencyMs,
        info: info === undefined ? undefined : { ...info, ...(info.pool === undefined ? {} : { pool: 'present' }) },
      }));
    const embeddedChecks = await openEmbeddedChecks(config);
    const infrastructure = await createInfrastructure({ configSource: source, logger: silentLogger() });
    try {
      const onDriver = comparable(await embeddedChecks.health({ deep: true }));
      expect(onDriver).toEqual(comparable(await infrastructure.health({ deep: true })));
      expect(onDriver.map((dependency) => dependency.name)).toEqual(['config', 'database', 'llm']);
    } finally {
      await Promise.all([embeddedChecks.close(), infrastructure.close()]);
    }
  });

  it('fails to open an unusable SQLite path with the message the infrastructure gives', async () => {
    const blocker = join(directory, 'a-file');
    writeFileSync(blocker, '');
    const source = new ConfigSource({ env: { DATABASE_URL: `sqlite:${join(blocker, 'sub', 'app.db')}` } });
    const onDriver = await openEmbeddedChecks(source.load()).then(
      () => undefined,
      (error: Error) => error.message,
    );
    const viaInfrastructure = await createInfrastructure({ configSource: source, logger: silentLogger() }).then(
      async (opened) => void (await opened.close()),
      (error: Error) => error.message,
    );
    expect(onDriver).toContain(blocker);
    expect(onDriver).toBe(viaInfrastructure);
    const io = recordingIo({ DATABASE_URL: `sqlite:${join(blocker, 'sub', 'app.db')}` });
    expect(await main(['doctor'], io)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/✘ dependencies\s+.*a-file/);
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

  it('masks the credentials of a provider base URL, which is no secret variable', async () => {
    const io = recordingIo({
      ...embedded,
      OPENAI_API_KEY: CANARY,
      OPENAI_BASE_URL: 'https://proxy-user:proxy-pass-canary@proxy.example/v1?api_key=query-key-canary',
    });
    expect(await main(['config'], io)).toBe(0);
    const printed = JSON.parse(io.stdout.join('\n')) as { llm: { openai: { baseUrl: string } } };
    expect(printed.llm.openai.baseUrl).toBe('https://proxy-user:***@proxy.example/v1?api_key=***');
    expect(io.stdout.join('\n')).not.toMatch(/proxy-pass-canary|query-key-canary/);
  });

  it('prints the variable table for the README', async () => {
    const io = recordingIo({});
    expect(await main(['config', '--markdown'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/\| `DB_POOL_SIZE` \| `5` \|/);
  });
});
