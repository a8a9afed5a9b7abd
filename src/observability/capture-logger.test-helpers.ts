import { createLogger, type Logger } from './logger.js';

/** A logger that keeps every line it writes, for assertions on what was (and was not) logged. */
export interface CapturedLogger {
  logger: Logger;
  /** The raw JSON lines, in order. */
  lines: string[];
  /** Every line joined: search it for text that must never appear (a secret, a prompt). */
  text(): string;
  /** The lines parsed, kept up to date as lines are written. */
  records: Array<Record<string, unknown>>;
}

/** A JSON logger at `level` (default `trace`) whose output is kept in memory. */
export function captureLogger(level: 'trace' | 'debug' | 'info' = 'trace'): CapturedLogger {
  const lines: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  const write = (line: string): void => {
    lines.push(line);
    records.push(JSON.parse(line) as Record<string, unknown>);
  };
  return { logger: createLogger({ level, format: 'json' }, { destination: { write } }), lines, records, text: () => lines.join('') };
}
