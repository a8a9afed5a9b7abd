import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectionTracker } from './connection-tracker.js';

/** The few members of a socket and a response the tracker touches, recorded. */
function connection() {
  const socket = { destroyed: 0, closingSoon: 0 };
  const asSocket = {
    destroy: () => void socket.destroyed++,
    destroySoon: () => void socket.closingSoon++,
  } as unknown as Socket;
  return { socket, asSocket };
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
});
