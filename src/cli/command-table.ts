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

/**
 * What is wrong with the flags given to `action` when some are not in `allowed` (`--help` is
 * always taken): "ACTION does not take --a, --b; it takes --c", or undefined when all are taken.
 */
export function flagsNotTaken(action: string, values: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  const given = Object.entries(values)
    .filter(([flag, value]) => flag !== 'help' && value !== undefined && value !== false && !allowed.includes(flag))
    .map(([flag]) => `--${flag}`);
  if (given.length === 0) return undefined;
  return `${action} does not take ${given.join(', ')}${allowed.length === 0 ? '' : `; it takes ${allowed.map((flag) => `--${flag}`).join(', ')}`}`;
}
