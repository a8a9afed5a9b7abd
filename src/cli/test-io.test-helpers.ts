import type { CommandIo } from './output.js';

/** A CommandIo that records what a command writes. */
export function recordingIo(env: Record<string, string | undefined>): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text), isTty: false, env };
}
