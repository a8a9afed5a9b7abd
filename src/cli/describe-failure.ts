import { ConfigError, formatConfigIssue } from '../errors/config-error.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import { UsageError } from './command-table.js';

/** What the CLI prints for a failed command, and its exit status. */
export interface FailureReport {
  message: string;
  status: number;
}

const SYSTEM_HINTS: Record<string, string> = {
  EADDRINUSE: 'another process is listening there: stop it, or set PORT (and HOST) to a free address.',
  EACCES: 'permission denied: check the path or port, and who the process runs as.',
  EPERM: 'operation not permitted: check the path, and who the process runs as.',
  ENOENT: 'no such file or directory.',
  ENOTDIR: 'a part of the path is a file, not a directory.',
  EEXIST: 'something already exists at that path.',
  EISDIR: 'the path is a directory, not a file.',
};

/**
 * One clear line (or, for configuration, one line per problem) for a failed command, never a
 * stack trace unless `debug` (`DEBUG` on): mistakes in a command line, a file or the configuration are
 * ordinary, and a stack says "bug" to the reader.
 */
export function describeFailure(error: unknown, usage: string, debug: boolean): FailureReport {
  if (error instanceof UsageError) return { message: `${error.message}\n\n${usage}`, status: 2 };
  if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    return { message: `${error.message}\n\n${usage}`, status: 2 };
  }
  if (ConfigError.isInstance(error)) {
    return {
      message: `Configuration is invalid:\n${error.issues.map((issue) => `  ✘ ${formatConfigIssue(issue)}`).join('\n')}`,
      status: 1,
    };
  }
  const stack = debug && error instanceof Error && error.stack !== undefined ? `\n${error.stack}` : '';
  if (GroundworkError.isInstance(error)) return { message: `✘ ${error.message}${stack}`, status: 1 };
  const code = (error as { code?: unknown } | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts\b/.test(text)) {
    return {
      message: `✘ ${text}\n  Plain node cannot load TypeScript: run the command with tsx (npx tsx node_modules/.bin/groundwork …), or compile the files to .js.${stack}`,
      status: 1,
    };
  }
  if (typeof code === 'string' && code in SYSTEM_HINTS) return { message: `✘ ${text}: ${SYSTEM_HINTS[code]}${stack}`, status: 1 };
  return { message: `✘ ${text}${stack || (debug ? '' : '\n  (set DEBUG=1 to see where it happened)')}`, status: 1 };
}
