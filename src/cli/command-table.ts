import type { CommandIo } from './output.js';

/** One `groundwork` command: its usage, and how to run it. Its module is imported only when it runs. */
export interface CommandEntry {
  /** One line for `groundwork --help`. */
  summary: string;
  /** `groundwork <command> --help`. */
  usage: string;
  /** Parses `argv` (after the command name) and runs the command; resolves with the exit status. */
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** A mistake in how a command was called: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
