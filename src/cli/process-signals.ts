import { constants } from 'node:os';

/** What `groundwork serve` waits on to stop; the process's signals unless a test hands in its own. */
export interface ServeSignals {
  /** Resolves with the signal's name when the service should shut down. */
  stopped: Promise<string>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** Options of {@link processSignals}. */
export interface ProcessSignalsOptions {
  /** Runs when a second stop signal arrives, just before the process ends by it (to write what it holds). */
  beforeSecondStop?: () => void;
  /**
   * Signals that end the process at once, by that signal as they would without a handler, after
   * {@link ProcessSignalsOptions.beforeEnd} has run: `serve` names SIGHUP (except on Windows), so
   * that the log lines it holds are written before it ends it. SIGQUIT is best left out: it is how a
   * wedged process is ended (with a core dump), which must not wait for JavaScript. @default none
   */
  endSignals?: readonly NodeJS.Signals[];
  /** Runs when one of {@link ProcessSignalsOptions.endSignals} arrives, just before the process ends by it. */
  beforeEnd?: () => void;
  /**
   * End on one of {@link ProcessSignalsOptions.endSignals} by `process.exit(128 + its number)`
   * (129 for SIGHUP) rather than by sending it again: on Windows, where a process cannot send itself
   * SIGHUP. @default false
   */
  endByExit?: boolean;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * SIGTERM and SIGINT. The first resolves `stopped`; another one before {@link ServeSignals.dispose}
 * (from an operator who will not wait for the drain) runs `beforeSecondStop` and then ends the
 * process by that signal, as it would have ended without a handler. Each of `endSignals`, at any
 * time before `dispose`, runs `beforeEnd` and ends the process by that signal likewise.
 */
export function processSignals(options: ProcessSignalsOptions = {}): ServeSignals {
  let received = false;
  let resolve: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((settle) => {
    resolve = settle;
  });
  const endSignals = options.endSignals ?? [];
  const dispose = (): void => {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    for (const signal of endSignals) process.off(signal, end);
  };
  /**
   * Removes every handler, runs `hook`, then sends `signal` again, which now ends the process by its
   * default (or, `byExit`, exits with 128 + its number). The handlers go first so that the same
   * signal sent again while `hook` runs (it is stuck) ends the process at once.
   */
  const endBy = (signal: NodeJS.Signals, hook: (() => void) | undefined, byExit = false): void => {
    dispose();
    try {
      hook?.();
    } finally {
      if (byExit) process.exit(128 + (constants.signals[signal] ?? 0));
      else process.kill(process.pid, signal);
    }
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (!received) {
      received = true;
      resolve(signal);
      return;
    }
    endBy(signal, options.beforeSecondStop);
  };
  const end = (signal: NodeJS.Signals): void => endBy(signal, options.beforeEnd, options.endByExit === true);
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  for (const signal of endSignals) process.on(signal, end);
  return { stopped, dispose };
}
