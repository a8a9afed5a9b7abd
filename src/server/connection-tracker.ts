import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Knows every open connection and how many requests each is answering, so shutdown can close
 * idle keep-alive connections at once, close busy ones as soon as their response is sent, and
 * destroy whatever is left when the shutdown timeout runs out.
 */
export class ConnectionTracker {
  readonly #active = new Map<Socket, number>();
  readonly #responses = new Map<ServerResponse, AbortController>();
  #draining = false;

  /** Starts tracking the server's connections. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.#active.set(socket, 0);
      socket.once('close', () => this.#active.delete(socket));
      if (this.#draining) socket.destroy();
    });
  }

  /**
   * Counts a request until {@link release}; `aborter` cancels its work if shutdown gives up on it.
   * The caller releases it from the response's own `close` listener: a second listener per
   * request costs its wrapper and the growth of the response's listener array.
   */
  track(socket: Socket, response: ServerResponse, aborter: AbortController): void {
    this.#active.set(socket, (this.#active.get(socket) ?? 0) + 1);
    this.#responses.set(response, aborter);
  }

  /** The response of a {@link track}ed request has closed (sent, or its connection lost). Call once per request. */
  release(socket: Socket, response: ServerResponse): void {
    if (!this.#responses.delete(response)) return;
    // A lost connection's own `close` runs before its response's: it is forgotten already, and
    // counting it again would keep the dead socket for drain() and destroyAll() forever.
    const tracked = this.#active.get(socket);
    if (tracked === undefined) return;
    const count = tracked - 1;
    this.#active.set(socket, count);
    if (this.#draining && count === 0) socket.destroySoon();
  }

  /** Requests being answered. */
  get inFlight(): number {
    return this.#responses.size;
  }

  /**
   * Begins draining: idle connections close now; responses not yet started will say
   * `Connection: close`; busy connections close after their response.
   */
  drain(): void {
    this.#draining = true;
    for (const response of this.#responses.keys()) if (!response.headersSent) response.setHeader('connection', 'close');
    for (const [socket, count] of this.#active) if (count === 0) socket.destroy();
  }

  /** Aborts the work of every request in flight and destroys every connection still open (the shutdown timeout ran out). */
  destroyAll(reason: Error): void {
    for (const aborter of this.#responses.values()) aborter.abort(reason);
    for (const socket of this.#active.keys()) socket.destroy();
  }
}
