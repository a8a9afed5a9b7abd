import pino, { type DestinationStream } from 'pino';

/**
 * Log lines bound for stdout or stderr, held in memory and written together: one write(2) for
 * many lines instead of one each. A busy gateway writes an access-log line per request, and
 * each write is a system call (and, on a pipe, a wake-up of the reader).
 *
 * Lines are written, in order, when {@link HELD_BYTES} of them gather, at most `intervalMs` after
 * the first of them, at once when a `warn` line or worse is logged ({@link HeldLines.writeNow}) or
 * the logger is flushed (`logger.flush()`), when {@link writeHeldLines} is called (`groundwork
 * serve` calls it when a stop signal arrives), or {@link writeHeldLinesAtEnd} (before a repeated
 * stop signal or SIGHUP ends `serve`), at an uncaught exception, and when the process exits. What a
 * process holds is lost when it dies without running JavaScript again: killed outright (SIGKILL,
 * the out-of-memory killer), ended by a V8 fatal error (its heap exhausted), or by a signal it does
 * not handle (SIGQUIT, which is left to end a wedged process at once with a core dump, SIGUSR2,
 * SIGALRM and the like, or any signal outside `serve`'s handling): at most the lines of the last
 * `intervalMs`.
 */
export interface HeldLines extends DestinationStream {
  /** Writes every held line now. */
  writeNow(): void;
  /**
   * Writes every held line now, then calls `cb` (on the next tick, without an error, or with the
   * write's error). pino's `logger.flush(cb)` calls it.
   */
  flush(cb?: (error?: Error) => void): void;
  /** Writes every held line now; throws what the write throws. pino calls it after a `fatal` line. */
  flushSync(): void;
}

/** Bytes of lines held before they are written without waiting for the interval. */
export const HELD_BYTES = 4096;

/** A descriptor's holder and the timer that writes its lines. */
interface Holder {
  readonly lines: HeldLines;
  intervalMs: number;
  timer: NodeJS.Timeout;
}

/**
 * One per descriptor: two holders on one descriptor would write their lines out of order, and a
 * warning written at once through one would leave the other's lines behind it.
 */
const holders = new Map<1 | 2, Holder>();

/**
 * The process-wide holder of lines for `fd` (1 or 2) that writes them at least every `intervalMs`.
 * Loggers asking for the same descriptor share it, at the shortest interval any of them asked for.
 * Its timer does not keep the process alive; it lives as long as the process.
 */
export function heldLines(fd: 1 | 2, intervalMs: number): HeldLines {
  let holder = holders.get(fd);
  if (holder === undefined) {
    holder = createHolder(fd, intervalMs);
    holders.set(fd, holder);
    if (holders.size === 1) {
      // An uncaught exception in an `exit` listener ahead of this one ends the process without
      // running it: the lines go out at any uncaught exception, before its stack is printed.
      process.on('uncaughtExceptionMonitor', writeHeldLines);
      process.once('exit', writeHeldLines);
    }
  } else if (intervalMs < holder.intervalMs) {
    clearInterval(holder.timer);
    holder.intervalMs = intervalMs;
    holder.timer = setInterval(holder.lines.writeNow, intervalMs).unref();
  }
  return holder.lines;
}

/** Writes every line held, for every descriptor, now; does nothing when none are held. */
export function writeHeldLines(): void {
  for (const holder of holders.values()) holder.lines.writeNow();
}

/**
 * Once set, a write to a descriptor that would block (EAGAIN) gives up instead of waiting for the
 * reader; until then it waits, as a synchronous write does.
 */
let ending = false;

/**
 * The last write of a process about to end by a signal: every line held, as {@link writeHeldLines},
 * but a descriptor that would block (a reader that stopped reading) loses its lines rather than
 * hold the process up, and no write error is thrown. Every write after it gives up likewise.
 */
export function writeHeldLinesAtEnd(): void {
  ending = true;
  for (const holder of holders.values()) {
    try {
      holder.lines.writeNow();
    } catch {
      // The process is ending: lines the descriptor would not take are lost, as a signal's would be.
    }
  }
}

function createHolder(fd: 1 | 2, intervalMs: number): Holder {
  // Synchronous writes, as the unheld logger's: a line handed to write(2) is out of the process.
  const stream = pino.destination({ fd, sync: true, minLength: HELD_BYTES, retryEAGAIN: () => !ending });
  let held = false;
  const writeNow = (): void => {
    if (!held) return;
    held = false;
    stream.flush();
  };
  const lines: HeldLines = {
    write(line: string): void {
      held = true;
      stream.write(line);
    },
    writeNow,
    flush(cb?: (error?: Error) => void): void {
      let failure: Error | undefined;
      try {
        writeNow();
      } catch (error) {
        if (cb === undefined) throw error;
        failure = error as Error;
      }
      if (cb !== undefined) process.nextTick(cb, failure);
    },
    flushSync: writeNow,
  };
  return { lines, intervalMs, timer: setInterval(writeNow, intervalMs).unref() };
}
