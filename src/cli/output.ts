import { scrubSecrets } from '../observability/redact.js';
import { standardStreams } from './process-output.js';

/** Where a command writes: results to `out`, progress and errors to `err`. Injected for tests. */
export interface CommandIo {
  /**
   * A result, written as it is: what a command prints there is deliberate (a new key, an answer, a
   * configuration whose secrets are `Secret`s and print redacted), and rewriting it would corrupt it.
   */
  out: (text: string) => void;
  /** Progress and errors, scrubbed of secrets: an error's message may quote what an upstream echoed. */
  err: (text: string) => void;
  /** Whether `out` is a terminal (colours and symbols). */
  isTty: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams: results to stdout as they are, progress and errors to stderr scrubbed of secrets. */
export function processIo(): CommandIo {
  const { stdout, stderr } = standardStreams();
  return {
    out: (text) => stdout.write(`${text}\n`),
    err: (text) => stderr.write(`${scrubSecrets(text)}\n`),
    isTty: process.stdout.isTTY === true,
    env: process.env,
  };
}

/** Outcome of one check line. */
export type CheckOutcome = 'pass' | 'warn' | 'fail' | 'skip';

const SYMBOLS: Record<CheckOutcome, string> = { pass: '✔', warn: '!', fail: '✘', skip: '–' };
const COLOURS: Record<CheckOutcome, string> = { pass: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m', skip: '\u001b[90m' };

/** A check line: symbol, name padded, summary; the fix indented below when given. */
export function formatCheckLine(outcome: CheckOutcome, name: string, summary: string, fix: string | undefined, colour: boolean): string {
  const symbol = colour ? `${COLOURS[outcome]}${SYMBOLS[outcome]}\u001b[0m` : SYMBOLS[outcome];
  const line = `  ${symbol} ${name.padEnd(22)} ${summary}`;
  return fix === undefined ? line : `${line}\n      → ${fix}`;
}
