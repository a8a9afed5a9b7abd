import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await harness?.close();
  harness = undefined;
});

/** Opens a connection that sends the start of a request and then nothing more (a slowloris client). */
function slowClient(url: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: groundwork\r\nX-Slow: ');
      resolve({ socket, closed });
    });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
  });
}

describe('groundwork serve’s connection hygiene', () => {
  it('closes connections that do not finish their headers within SERVER_HEADERS_TIMEOUT_MS', async () => {
    harness = await startTestServer({ config: { headersTimeoutMs: 1000, requestTimeoutMs: 1000 } });
    const clients = await Promise.all(Array.from({ length: 30 }, () => slowClient(harness!.url)));
    const started = performance.now();
    await Promise.all(clients.map((client) => client.closed));
    // Node's default would hold them for 60 s; within the limit plus one check interval, all are gone.
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('closes an idle kept-alive connection after SERVER_KEEP_ALIVE_TIMEOUT_MS, and not before', async () => {
    /** A connection that made one request and keeps its socket; resolves when the server closes it, with how long after the answer. */
    const idleAfterOneRequest = async (url: string): Promise<{ closed: Promise<number> }> => {
      const { hostname, port } = new URL(url);
      const socket = connect(Number(port), hostname);
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const answered = new Promise<number>((resolve) => socket.once('data', () => resolve(performance.now())));
      socket.write('GET /healthz HTTP/1.1\r\nHost: groundwork\r\nConnection: keep-alive\r\n\r\n');
      const at = await answered;
      return { closed: new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - at))) };
    };
    harness = await startTestServer({ config: { keepAliveTimeoutMs: 1000 } });
    const other = await startTestServer({ config: { keepAliveTimeoutMs: 3000 } });
    try {
      const [short, long] = await Promise.all([idleAfterOneRequest(harness.url), idleAfterOneRequest(other.url)]);
      const closedAfter = await short.closed;
      expect(closedAfter).toBeGreaterThan(800);
      expect(closedAfter).toBeLessThan(2500);
      // The other server's connection is still open after the first one's has closed.
      const stillOpen = await Promise.race([
        long.closed.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500)),
      ]);
      expect(stillOpen).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('refuses connections beyond SERVER_MAX_CONNECTIONS', async () => {
    harness = await startTestServer({ config: { maxConnections: 5 } });
    const held = await Promise.all(Array.from({ length: 5 }, () => slowClient(harness!.url)));
    const extra = await slowClient(harness.url);
    await extra.closed;
    const stillOpen = held.filter((client) => !client.socket.destroyed && client.socket.readyState === 'open');
    expect(stillOpen).toHaveLength(5);
  });

  it('logs connections refused beyond SERVER_MAX_CONNECTIONS, at most once in ten seconds, and those left untold at shutdown', async () => {
    harness = await startTestServer({ config: { maxConnections: 2 } });
    await Promise.all(Array.from({ length: 2 }, () => slowClient(harness!.url)));
    await (await slowClient(harness.url)).closed;
    await (await slowClient(harness.url)).closed;
    const refusals = () => harness!.logs.filter((line) => String(line['msg']).includes('SERVER_MAX_CONNECTIONS'));
    expect(refusals()).toEqual([expect.objectContaining({ level: 'warn', maxConnections: 2, refused: 1 })]);
    await harness.close();
    expect(refusals()).toEqual([
      expect.objectContaining({ level: 'warn', maxConnections: 2, refused: 1 }),
      expect.objectContaining({ level: 'warn', maxConnections: 2, refused: 1 }),
    ]);
  });
});
