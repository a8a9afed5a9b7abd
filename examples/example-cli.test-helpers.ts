import type { CliIo } from './cli-support.js';

/** A {@link CliIo} that keeps what was written. */
export function bufferedIo(): CliIo & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}
