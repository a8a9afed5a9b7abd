import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, whose link tests can break on purpose: cut
 * every connection at its next client write (the server seems alive until it is used), and
 * refuse new connections (as a restarting server does), hold new connections until released (as
 * a slow server does).
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  #cutOnNextWrite = false;
  #cutOnNextAnswer = false;
  #cutAfterNextAnswer = false;
  #clientWrites = 0;
  #holding = false;
  readonly #held: Socket[] = [];

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** The port the proxy listens on (kept across `refuse()` and `accept()`). */
  get port(): number {
    return this.#port;
  }

  /** Connections accepted and held, not yet relayed (see {@link hold}). */
  get held(): number {
    return this.#held.length;
  }

  /** Chunks received from clients so far: one per client write that reached the proxy on its own. */
  get clientWrites(): number {
    return this.#clientWrites;
  }

  /** Starts accepting connections (again), on the same port once one was chosen, and relaying writes. */
  async accept(): Promise<void> {
    this.#cutOnNextWrite = false;
    const server = createServer((client) => (this.#holding ? this.#hold(client) : this.#relay(client)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops listening: new connections are refused (ECONNREFUSED); open ones carry on. */
  async refuse(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // The listening socket closes at once; `close`'s callback would wait for open connections too.
    server?.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** From now on, a connection whose client writes anything is destroyed before the write reaches the server. */
  cutOnNextWrite(): void {
    this.#cutOnNextWrite = true;
  }

  /**
   * The next connection the server answers is destroyed instead of the answer reaching its
   * client: the server ran what it was sent (and committed it, outside a transaction), the
   * client never learns. Once only.
   */
  cutOnNextAnswer(): void {
    this.#cutOnNextAnswer = true;
  }

  /**
   * The next answer the server sends reaches its client, and that connection is destroyed at the
   * client's next write, before it reaches the server: what was sent ran and was answered, what
   * follows (a COMMIT, say) is lost. Once only.
   */
  cutAfterNextAnswer(): void {
    this.#cutAfterNextAnswer = true;
  }

  /** From now on, new connections are accepted but nothing of them is relayed until {@link release}: opening one waits. */
  hold(): void {
    this.#holding = true;
  }

  /** Relays the held connections, and new ones again. */
  release(): void {
    this.#holding = false;
    for (const client of this.#held.splice(0)) {
      this.#sockets.delete(client);
      this.#relay(client);
      client.resume();
    }
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await this.refuse();
  }

  #hold(client: Socket): void {
    client.pause();
    this.#sockets.add(client);
    this.#held.push(client);
    client.on('error', () => client.destroy());
  }

  #relay(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    this.#sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    let cutOnWrite = false;
    client.on('data', (chunk: Buffer) => {
      if (this.#cutOnNextWrite || cutOnWrite) return drop();
      this.#clientWrites++;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.#cutOnNextAnswer) {
        this.#cutOnNextAnswer = false;
        drop();
        return;
      }
      if (this.#cutAfterNextAnswer) {
        this.#cutAfterNextAnswer = false;
        cutOnWrite = true;
      }
      client.write(chunk);
    });
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }
}
