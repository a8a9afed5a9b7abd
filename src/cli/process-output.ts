/**
 * One of the process's standard streams as the CLI writes to it. A reader that leaves before the
 * end (`groundwork keys list | head -1`: EPIPE) is not an error: what follows is not written, and
 * the command finishes with its own exit status. Any other failure is kept, for the exit to report.
 * @internal
 */
export class StandardStream {
  readonly #stream: NodeJS.WriteStream;
  /** Set once the stream failed or closed: nothing more is written to it. */
  #gone = false;
  /** Why writing failed, when it was not a reader that left. */
  failure: Error | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    // A listener for good: a write after a failure fails again, and an unheard `error` would end the process with a stack.
    stream.on('error', (error: NodeJS.ErrnoException) => this.#failed(error));
    stream.once('close', () => {
      this.#gone = true;
    });
  }

  /** Keeps the first failure (a reader that left is none); nothing more is written. */
  #failed(error: NodeJS.ErrnoException): void {
    if (!this.#gone && error.code !== 'EPIPE') this.failure = error;
    this.#gone = true;
  }

  /** Writes `text`, unless the stream failed or closed. */
  write(text: string): void {
    if (!this.#gone) this.#stream.write(text);
  }

  /**
   * Settles once everything written has been handed to the system (a pipe's reader may be slow:
   * `| (sleep 4; wc -c)`), or at once when the stream failed or closed.
   */
  flushed(): Promise<void> {
    // A file's writes are synchronous: a failed one (`> /dev/full`) is on the stream at once, its `error` event only on a later tick.
    const errored = this.#stream.errored;
    if (errored !== null) this.#failed(errored);
    if (this.#gone || this.#stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#stream.off('close', done);
        resolve();
      };
      this.#stream.once('close', done);
      // Writes go out in order: an empty one's callback runs once every earlier one is out, or failed.
      this.#stream.write('', done);
    });
  }
}

let streams: { stdout: StandardStream; stderr: StandardStream } | undefined;

/**
 * The process's stdout and stderr as the CLI writes to them, made once per process.
 * @internal
 */
export function standardStreams(): { stdout: StandardStream; stderr: StandardStream } {
  streams ??= { stdout: new StandardStream(process.stdout), stderr: new StandardStream(process.stderr) };
  return streams;
}

/**
 * Waits until what the CLI wrote on stdout and stderr has been handed over (or a stream failed or
 * closed), and answers the exit status: the command's, or 1 when stdout failed for another reason
 * than a reader that left (said on stderr), since the result did not arrive.
 * @internal
 */
export async function settleOutput(status: number): Promise<number> {
  const { stdout, stderr } = standardStreams();
  await stdout.flushed();
  if (stdout.failure === undefined) {
    await stderr.flushed();
    return status;
  }
  stderr.write(`✘ The output could not be written: ${stdout.failure.message}\n`);
  await stderr.flushed();
  return status === 0 ? 1 : status;
}
