import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../test/node-process.js';

const RECORD_IMPORTS = fileURLToPath(new URL('../test/record-imports.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
/** The built package, as an application imports it (CI builds before it tests). */
const DIST_ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const DELAY_KYSELY = fileURLToPath(new URL('../test/delay-kysely-load.mjs', import.meta.url));
/** The packages that run this test's TypeScript (tsx and its esbuild), not Groundwork's. */
const TEST_RUNNER = new Set(['tsx', 'esbuild']);
/** What Groundwork loads only when the code that needs it runs. */
const HEAVY =
  /^(kysely|zod|pino|pino-pretty|prom-client|@opentelemetry\/.+|pg|pg-boss|better-sqlite3|@electric-sql\/pglite|ioredis|undici|openai|@anthropic-ai\/sdk|@google\/genai|@aws-sdk\/.+|@smithy\/.+|js-tiktoken|yaml)$/;

const directory = mkdtempSync(join(tmpdir(), 'groundwork-package-import-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Runs `code` (an ES module that may import `ENTRY` and `ZOD`) in its own process; returns every module it loaded. */
async function loading(code: string): Promise<string[]> {
  const script = join(directory, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    code.replaceAll('ENTRY', JSON.stringify(pathToFileURL(ENTRY).href)).replaceAll('ZOD', JSON.stringify(import.meta.resolve('zod'))),
  );
  const result = await runNode(script, [], { nodeArgs: ['--import', RECORD_IMPORTS] });
  expect(result.stderr.replace(/^loaded .*\n?/gm, '')).toBe('');
  expect(result.code).toBe(0);
  return result.stderr.split('\n').filter((line) => line.startsWith('loaded '));
}

/** The packages among `loaded` (`@scope/name` or `name`), each once, the test runner's left out. */
function packages(loaded: string[]): string[] {
  const names = loaded.flatMap((line) => {
    const found = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    return found?.[1] === undefined || TEST_RUNNER.has(found[1]) ? [] : [found[1]];
  });
  return [...new Set(names)].sort();
}

describe("import('groundwork')", () => {
  it('loads no package at all: no provider SDK, LLM client, database layer, validator, logger or metrics', async () => {
    const result = await runNode(ENTRY, [], { nodeArgs: ['--import', RECORD_IMPORTS] });
    expect(result.code).toBe(0);
    const loaded = result.stderr.split('\n').filter((line) => line.startsWith('loaded '));
    // The recorder works: the entry itself was seen (and the test below sees packages load on use).
    expect(loaded.some((line) => line.endsWith('/src/index.ts'))).toBe(true);
    expect(
      loaded.filter((line) => /\/node_modules\/(openai|@anthropic-ai\/sdk)\/|\/src\/llm\/(llm-client|providers\/)/.test(line)),
    ).toEqual([]);
    expect(packages(loaded).filter((name) => HEAVY.test(name))).toEqual([]);
    expect(packages(loaded)).toEqual([]);
    // Nor the modules that open things: createInfrastructure's body, the database layer, jobs, tenants.
    expect(
      loaded.filter((line) =>
        /\/src\/(open-infrastructure\.ts|db\/(?!sql\.ts|[a-z-]+-error\.ts)|jobs\/jobs\.ts|tenants\/create-)/.test(line),
      ),
    ).toEqual([]);
  });

  it('reads the configuration without loading any package', async () => {
    const loaded = await loading(`
      const { loadConfig, validateEnvironment } = await import(ENTRY);
      if (loadConfig({ env: {}, envFile: false }).database.dialect !== 'sqlite') throw new Error('no config');
      if (validateEnvironment({ env: { DB_POOL_SIZE: 'many' }, envFile: false }).errors[0]?.variable !== 'DB_POOL_SIZE') throw new Error('no error');
    `);
    expect(packages(loaded)).toEqual([]);
  });

  it('loads Kysely on the first use of sql, and only it', async () => {
    const loaded = await loading(`
      const { sql } = await import(ENTRY);
      const node = sql\`select \${1}\`.toOperationNode();
      if (node.kind !== 'RawNode' || node.parameters.length !== 1) throw new Error(JSON.stringify(node));
    `);
    expect(packages(loaded)).toEqual(['kysely']);
  });

  it('turns the application’s zod schema into a response format, loading nothing more', async () => {
    const loaded = await loading(`
      const { definePrompt } = await import(ENTRY);
      const { z } = await import(ZOD);
      const prompt = definePrompt({ name: 'import-check', version: 1, template: 'Hi {{name}}', schema: z.object({ greeting: z.string() }) });
      if (prompt.responseFormat?.type !== 'json_schema' || prompt.responseFormat.strict !== true) throw new Error('no response format');
    `);
    expect(packages(loaded)).toEqual(['zod']);
  });

  it('lets sql be used while createInfrastructure is still opening (it loads Kysely before its first await)', async () => {
    // The built package under plain node (this test's TypeScript loader hides the window), with
    // Kysely's load held for 300 ms: sql is first used the moment the opening starts loading
    // Kysely, or once it has opened. Without Kysely loaded before the opening's first await, sql
    // meets an import() of Kysely under way and throws.
    if (!existsSync(DIST_ENTRY)) throw new Error('dist/ is missing: run `npm run build` first (CI builds before it tests)');
    const script = join(directory, 'sql-while-opening.mjs');
    writeFileSync(
      script,
      `
      const { createInfrastructure, sql } = await import(${JSON.stringify(pathToFileURL(DIST_ENTRY).href)});
      const opening = createInfrastructure({ env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' }, envFile: false });
      const moment = await Promise.race([globalThis.kyselyLoading, opening.then(() => 'opened')]);
      if (sql\`select 1\`.toOperationNode().kind !== 'RawNode') throw new Error('no builder');
      const infra = await opening;
      const { rows } = await sql\`select 2 as two\`.execute(infra.db);
      if (rows[0].two !== 2) throw new Error(JSON.stringify(rows));
      await infra.close();
      console.log(moment);
    `,
    );
    // Plain node: runNode would add the TypeScript loader, whose own loading hides the window.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', DELAY_KYSELY, script], { env: { PATH: process.env.PATH ?? '' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
