/*
 * Runs the fenced code blocks of README.md and examples/README.md, so a documented example cannot
 * rot. `npm run check:readme` (CI runs it after the build). The info string says what is done:
 *
 *   ```ts                every TypeScript block is type-checked against the built package, then run
 *                        with tsx against the fake provider (OPENAI_* point at it, SQLite in memory;
 *                        the fake is reset before each block); it must exit 0 and log no error
 *   ```ts typecheck      an illustrative fragment: type-checked only
 *   ```sh                run with bash from a scratch directory (`groundwork` is this checkout's CLI)
 *   ```sh no-run         shown, not run (it installs, clones, serves forever or needs a real key)
 *   other languages      not run (output, diagrams, other languages' clients)
 *
 * `typescript` is read as `ts`, and `bash` and `shell` as `sh`. Blocks are found as Markdown finds
 * them: indented under a list item or not, fenced with backticks or tildes (see `readme-blocks.ts`).
 * A first line `// in: DIR` writes a TypeScript block into DIR (for its relative imports).
 * Every block is accounted for in the summary; none is skipped in silence.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeProviderServer } from '../dist/testing/index.js';
import { actionOf, type Block, blockFile, extractBlocks, placeDiagnostics } from './readme-blocks.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCUMENTS = ['README.md', 'examples/README.md'];

/** Runs a command without blocking this process's event loop (the fake provider answers from it). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, output: `${stdout}${stderr}` });
    });
  });
}

const failures: string[] = [];
const summary = { typechecked: 0, ran: 0, notRun: 0 };
const where = (block: Block): string => `${block.document}:${block.line}`;

const scratch = join(root, '.readme-check');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
const written: Array<{ block: Block; file: string }> = [];
const blocks = DOCUMENTS.flatMap((document) => extractBlocks(document, readFileSync(join(root, document), 'utf8')));

for (const [index, block] of blocks.entries()) {
  const action = actionOf(block);
  if (action !== 'run-ts' && action !== 'typecheck') continue;
  const target = blockFile(root, scratch, index, block);
  if ('problem' in target) {
    failures.push(target.problem);
    continue;
  }
  writeFileSync(target.file, `${block.code}\nexport {};\n`);
  written.push({ block, file: target.file });
}

try {
  // Type-check every TypeScript block as an application would: `groundwork` is the built package.
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        lib: ['ES2023', 'DOM'],
      },
      files: written.map(({ file }) => relative(scratch, file)),
    }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(scratch, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) failures.push(`type-check failed:\n${placeDiagnostics(`${tsc.stdout}${tsc.stderr}`, blocks)}`);
  summary.typechecked = written.length;

  const fake = await new FakeProviderServer().start();
  const env = {
    PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? tmpdir(),
    OPENAI_API_KEY: 'sk-readme-check-000000000000',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'warn',
  };
  try {
    for (const { block, file } of written) {
      if (actionOf(block) === 'typecheck') continue;
      // What one block scripted or recorded is not left to the next.
      fake.reset();
      const result = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, env });
      summary.ran++;
      if (result.status !== 0 || /"level":("error"|"fatal"|50|60)|\bERROR\b/.test(result.output))
        failures.push(`${where(block)} failed (exit ${result.status}):\n${result.output}`);
    }
    const shell = mkdtempSync(join(tmpdir(), 'groundwork-readme-'));
    mkdirSync(join(shell, 'bin'));
    writeFileSync(join(shell, 'bin', 'groundwork'), `#!/bin/sh\nexec node ${join(root, 'dist/cli/bin.js')} "$@"\n`, { mode: 0o755 });
    for (const block of blocks) {
      const action = actionOf(block);
      if (action === 'run-ts' || action === 'typecheck') continue;
      if (action === 'show') {
        summary.notRun++;
        continue;
      }
      fake.reset();
      const result = await run('bash', ['-eo', 'pipefail', '-c', block.code], {
        cwd: shell,
        env: { ...env, PATH: `${join(shell, 'bin')}:${env.PATH}` },
      });
      summary.ran++;
      if (result.status !== 0) failures.push(`${where(block)} failed (exit ${result.status}):\n${result.output}`);
    }
    rmSync(shell, { recursive: true, force: true });
  } finally {
    await fake.close();
  }
} finally {
  for (const { file } of written) rmSync(file, { force: true });
  rmSync(scratch, { recursive: true, force: true });
}

console.log(
  `README blocks: ${blocks.length} (${summary.typechecked} type-checked, ${summary.ran} run, ${summary.notRun} shown only by their info string)`,
);
if (failures.length > 0) {
  for (const failure of failures) console.error(`✘ ${failure}`);
  process.exit(1);
}
