import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LoggingConfig } from '../config/app-config.js';
import { type HeldLines, heldLines } from './held-lines.js';
import { redactLogFields, redactValue, scrubSecrets } from './redact.js';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Where lines go: a stream, or a standard file descriptor. @default 'stdout' */
  destination?: DestinationStream | 'stdout' | 'stderr';
  /** Fields on every line. */
  base?: Record<string, unknown>;
  /**
   * Longest a JSON line for `stdout` or `stderr` may be held in memory, in ms, so that many lines
   * go out in one write: they are written when 4 KiB gather, at once for `warn` and worse, on
   * `logger.flush()`, at an uncaught exception and on exit. A process that dies without running
   * JavaScript again (SIGKILL, the out-of-memory killer, a V8 fatal error, a signal it does not
   * handle) loses what is held. 0 writes each line at once.
   * @default 0
   */
  holdLinesMs?: number;
}

/** pino's number for `warn`: lines at this level or worse are written at once. */
const WARN = 40;

/**
 * Creates the root logger: pino at the configured level, JSON or readable lines, and every
 * line redacted — secret-named fields, passwords in URLs, bearer tokens, and the value of
 * every configured secret wherever it appears.
 */
export function createLogger(config: LoggingConfig, options: CreateLoggerOptions = {}): Logger {
  const target = options.destination ?? 'stdout';
  const fd = target === 'stderr' ? 2 : 1;
  const held: HeldLines | undefined =
    typeof target === 'string' && config.format === 'json' && (options.holdLinesMs ?? 0) > 0
      ? heldLines(fd, options.holdLinesMs ?? 0)
      : undefined;
  const destination =
    typeof target !== 'string'
      ? target
      : held !== undefined
        ? held
        : config.format === 'pretty'
          ? prettyStream()({ sync: true, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: fd })
          : pino.destination({ sync: true, fd });
  return pino(
    {
      level: config.level,
      base: { name: 'groundwork', ...options.base },
      serializers: { err: (error: unknown) => redactValue(error), error: (error: unknown) => redactValue(error) },
      formatters: {
        level: (label) => ({ level: label }),
        log: redactLogFields,
      },
      hooks: {
        logMethod(args, method, level) {
          // pino hands each call its own array: scrubbed in place, without a copy per line.
          for (let index = 0; index < args.length; index++) {
            const arg = args[index];
            if (typeof arg === 'string') args[index] = scrubSecrets(arg);
          }
          method.apply(this, args);
          if (held !== undefined && level >= WARN) held.writeNow();
        },
      },
    },
    destination,
  );
}

/** A logger that writes nothing, for code paths that must not log. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** pino-pretty, required on first use: JSON logging (the default) never loads it. */
function prettyStream(): typeof import('pino-pretty') {
  return createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
}
