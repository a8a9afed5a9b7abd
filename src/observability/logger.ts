import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LoggingConfig } from '../config/app-config.js';
import { redactLogFields, redactValue, scrubSecrets } from './redact.js';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Where lines go: a stream, or a standard file descriptor. @default 'stdout' */
  destination?: DestinationStream | 'stdout' | 'stderr';
  /** Fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * Creates the root logger: pino at the configured level, JSON or readable lines, and every
 * line redacted — secret-named fields, passwords in URLs, bearer tokens, and the value of
 * every configured secret wherever it appears.
 */
export function createLogger(config: LoggingConfig, options: CreateLoggerOptions = {}): Logger {
  const target = options.destination ?? 'stdout';
  const fd = target === 'stderr' ? 2 : 1;
  const destination =
    typeof target !== 'string'
      ? target
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
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
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
