import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `--import` value that lets a child `node` run this repository's TypeScript, whatever its working directory. */
export const TSX_IMPORT = pathToFileURL(fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url))).href;

/** The CLI's entry point in the source tree. */
export const CLI_BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));

/** What a finished child process left behind. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runNode}. */
export interface RunNodeOptions {
  /** The child's whole environment (nothing is inherited but PATH). */
  env?: Record<string, string>;
  cwd?: string;
  /** Extra `node` flags, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  /** Kill the child after this long, in ms. @default 60000 */
  timeoutMs?: number;
}

/** Runs `node [nodeArgs] --import tsx script args…` in its own process and collects its output. */
export function runNode(script: string, args: string[], options: RunNodeOptions = {}): Promise<ProcessResult> {
  return runNodeArgs([...(options.nodeArgs ?? []), '--import', TSX_IMPORT, script, ...args], options);
}

/** Runs `node argv…` in its own process and collects its output. */
function runNodeArgs(argv: string[], options: RunNodeOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the Groundwork CLI from the source tree in its own process. */
export function runCli(args: string[], options: RunNodeOptions = {}): Promise<ProcessResult> {
  return runNode(CLI_BIN, args, options);
}

/** The built CLI, as users run it (`npm run build` makes it; CI builds before it tests). */
export const BUILT_CLI_BIN = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));

/** Runs the built Groundwork CLI (`dist/cli/bin.js`) in its own process, without tsx. */
export function runBuiltCli(args: string[], options: RunNodeOptions = {}): Promise<ProcessResult> {
  return runNodeArgs([...(options.nodeArgs ?? []), BUILT_CLI_BIN, ...args], options);
}

/** A loopback port nothing listens on as this runs (another process may still take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
