/** What `groundwork serve` waits on to stop; the process's signals unless a test hands in its own. */
export interface ServeSignals {
  /** Resolves with the signal's name when the service should shut down. */
  stopped: Promise<string>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** SIGTERM and SIGINT, each once. */
export function processSignals(): ServeSignals {
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  const stopped = new Promise<string>((resolve) => {
    handler = (signal) => resolve(signal);
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
  return {
    stopped,
    dispose: () => {
      if (handler === undefined) return;
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
