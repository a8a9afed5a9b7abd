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
}

/**
 * SIGTERM and SIGINT. The first resolves `stopped`; another one before {@link ServeSignals.dispose}
 * (from an operator who will not wait for the drain) runs `beforeSecondStop` and then ends the
 * process by that signal, as it would have ended without a handler.
 */
export function processSignals(options: ProcessSignalsOptions = {}): ServeSignals {
  let received = false;
  let resolve: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((settle) => {
    resolve = settle;
  });
  const dispose = (): void => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (!received) {
      received = true;
      resolve(signal);
      return;
    }
    try {
      options.beforeSecondStop?.();
    } finally {
      dispose();
      process.kill(process.pid, signal);
    }
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return { stopped, dispose };
}
