import { EventEmitter, once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { ConnectionTracker } from './connection-tracker.js';

/** The few members of a socket and a response the tracker touches, recorded. */
function connection() {
  const socket = { destroyed: 0, closingSoon: 0, onClose: [] as (() => void)[] };
  const asSocket = {
    destroy: () => void socket.destroyed++,
    destroySoon: () => void socket.closingSoon++,
    once: (event: string, listener: () => void) => {
      if (event === 'close') socket.onClose.push(listener);
      return asSocket;
    },
  } as unknown as Socket;
  /** Runs the `close` listeners the tracker added, as the socket's own close would. */
  const close = (): void => {
    for (const listener of socket.onClose.splice(0)) listener();
  };
  return { socket, asSocket, close };
}

function response(headersSent = false): ServerResponse & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const setHeader = (name: string, value: string): void => {
    headers[name] = value;
  };
  return { headersSent, headers, setHeader } as never;
}

describe('ConnectionTracker', () => {
  it('counts a request from track to release, and a second release changes nothing', () => {
    const tracker = new ConnectionTracker();
    const { asSocket } = connection();
    const first = response();
    const second = response();
    tracker.track(asSocket, first, new AbortController());
    tracker.track(asSocket, second, new AbortController());
    expect(tracker.inFlight).toBe(2);
    tracker.release(asSocket, first);
    tracker.release(asSocket, first);
    expect(tracker.inFlight).toBe(1);
    tracker.release(asSocket, second);
    expect(tracker.inFlight).toBe(0);
  });

  it('while draining, closes a connection once its last request is released, not before', () => {
    const tracker = new ConnectionTracker();
    const { socket, asSocket } = connection();
    const first = response();
    const second = response();
    tracker.track(asSocket, first, new AbortController());
    tracker.track(asSocket, second, new AbortController());
    tracker.drain();
    expect(first.headers.connection).toBe('close');
    tracker.release(asSocket, first);
    // A repeated release of the same response must not count as the second one's.
    tracker.release(asSocket, first);
    expect(socket.closingSoon).toBe(0);
    tracker.release(asSocket, second);
    expect(socket.closingSoon).toBe(1);
  });

  it('aborts the work of every request still tracked when told to give up, and none released before', () => {
    const tracker = new ConnectionTracker();
    const { asSocket } = connection();
    const released = new AbortController();
    const running = new AbortController();
    const done = response(true);
    tracker.track(asSocket, done, released);
    tracker.track(asSocket, response(true), running);
    tracker.release(asSocket, done);
    const reason = new Error('shutdown timed out');
    tracker.destroyAll(reason);
    expect(running.signal.reason).toBe(reason);
    expect(released.signal.aborted).toBe(false);
  });

  it('forgets a connection closed before its request is released, so draining and giving up leave it alone', () => {
    const tracker = new ConnectionTracker();
    const server = new EventEmitter();
    tracker.attach(server as Server);
    const { socket, asSocket, close } = connection();
    server.emit('connection', asSocket);
    const request = response();
    tracker.track(asSocket, request, new AbortController());
    // A caller that disconnects mid-request: Node runs the socket's `close` listeners (the
    // tracker's among them) before it emits the response's `close`, whose listener releases.
    close();
    tracker.release(asSocket, request);
    expect(tracker.inFlight).toBe(0);
    tracker.drain();
    tracker.destroyAll(new Error('shutdown timed out'));
    expect(socket.destroyed).toBe(0);
    expect(socket.closingSoon).toBe(0);
  });

  it('holds no connection whose caller went away mid-request over real HTTP', async () => {
    const tracker = new ConnectionTracker();
    const events = new EventEmitter();
    const server = createServer((request, response) => {
      const socket = request.socket;
      tracker.track(socket, response, new AbortController());
      response.on('close', () => {
        tracker.release(socket, response);
        events.emit('released');
      });
      events.emit('arrived');
    });
    tracker.attach(server);
    const serverSockets: Socket[] = [];
    server.on('connection', (socket: Socket) => serverSockets.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const caller = connect(port, '127.0.0.1');
      const arrived = once(events, 'arrived');
      const released = once(events, 'released');
      caller.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await arrived;
      caller.destroy();
      await released;
      expect(tracker.inFlight).toBe(0);
      const [socket] = serverSockets;
      if (socket === undefined) throw new Error('the server saw no connection');
      const destroy = vi.spyOn(socket, 'destroy');
      tracker.drain();
      tracker.destroyAll(new Error('shutdown timed out'));
      expect(destroy).not.toHaveBeenCalled();
    } finally {
      server.close();
      await once(server, 'close');
    }
  });
});
