import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server that can stop passing the server's answers on
 * (as a host that went silent mid-connection does), and counts its connections: how many are
 * open now, and the most that were open at once.
 */
export class StallingProxy {
  readonly #target: { host: string; port: number };
  readonly #open = new Set<Socket>();
  readonly #held: Array<() => void> = [];
  #server: Server | undefined;
  #stalled = false;
  #mostOpen = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts listening on a free port; answers the port. */
  async start(): Promise<number> {
    const server = createServer((client) => this.#relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return (server.address() as { port: number }).port;
  }

  /** Client connections open now. */
  get open(): number {
    return this.#open.size;
  }

  /** The most client connections open at once since the last {@link StallingProxy.resetCount}. */
  get mostOpen(): number {
    return this.#mostOpen;
  }

  resetCount(): void {
    this.#mostOpen = this.#open.size;
  }

  /** Answers held back since the proxy stalled. */
  get heldAnswers(): number {
    return this.#held.length;
  }

  /** From now on the server's answers are held back (the server still gets every request). */
  stall(): void {
    this.#stalled = true;
  }

  /** Passes the held answers on, and every answer after them. */
  resume(): void {
    this.#stalled = false;
    for (const deliver of this.#held.splice(0)) deliver();
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    this.#held.length = 0;
    for (const socket of this.#open) socket.destroy();
    await new Promise<void>((resolve) => (this.#server === undefined ? resolve() : this.#server.close(() => resolve())));
  }

  #relay(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    this.#open.add(client);
    this.#mostOpen = Math.max(this.#mostOpen, this.#open.size);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.#open.delete(client);
    };
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      const deliver = (): void => {
        if (!client.destroyed) client.write(chunk);
      };
      if (this.#stalled || this.#held.length > 0) this.#held.push(deliver);
      else deliver();
    });
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }
}
