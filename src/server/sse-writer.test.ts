import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseWriter } from './sse-writer.js';

type WritingSocket = Socket & { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };

let server: Server | undefined;

afterEach(async () => {
  vi.useRealTimers();
  const serving = server;
  server = undefined;
  if (serving === undefined) return;
  serving.closeAllConnections();
  await new Promise((resolve) => serving.close(resolve));
});

/** Serves one request with `write`, counting the socket writes its answer takes; resolves with the count and the body read. */
async function serveCounting(write: (writer: SseWriter, writes: () => number) => Promise<void>): Promise<{ writes: number; body: string }> {
  let writes = 0;
  let done: Promise<void> = Promise.resolve();
  server = createServer((_request, response) => {
    const socket = response.socket as WritingSocket;
    const single = socket._write.bind(socket);
    const vector = socket._writev.bind(socket);
    socket._write = (...args) => {
      writes++;
      single(...args);
    };
    socket._writev = (...args) => {
      writes++;
      vector(...args);
    };
    done = write(new SseWriter(response), () => writes);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const body = await response.text();
  await done;
  return { writes, body };
}

/** Serves every request with `handle`; resolves with the server's port. */
async function serve(handle: (response: ServerResponse) => void): Promise<number> {
  server = createServer((_request, response) => handle(response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Reads a response one chunk per turn of the event loop, as a slow client does; resolves with the body. */
function readSlowly(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/`, (response: IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => {
        body += piece;
        response.pause();
        setImmediate(() => response.resume());
      });
      response.on('end', () => resolve(body));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** A promise settled on a later tick, as a stream's end is announced after its data. */
function nextTicks(count: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number): void => (left === 0 ? resolve() : process.nextTick(step, left - 1));
    step(count);
  });
}

describe('SseWriter', () => {
  it('sends the headers, the events of one turn of I/O and the end in one socket write, even when they come on later ticks', async () => {
    const { writes, body } = await serveCounting(async (writer) => {
      writer.open({ 'x-test': '1' });
      writer.send({ n: 1 });
      await nextTicks(3);
      writer.send('[DONE]');
      writer.end();
    });
    expect(body).toBe('data: {"n":1}\n\ndata: [DONE]\n\n');
    expect(writes).toBe(1);
  });

  it('sends what was written before the stream waits on I/O, without waiting for its end', async () => {
    let writesBeforeWaiting = 0;
    let writesAfterWaiting = 0;
    const { writes, body } = await serveCounting(async (writer, writesSoFar) => {
      writer.open({});
      writer.send({ n: 1 });
      writesBeforeWaiting = writesSoFar();
      // The next turn of the event loop, as a stream waits for its next upstream read: the first event must be out by then.
      await new Promise((resolve) => setImmediate(resolve));
      writesAfterWaiting = writesSoFar();
      writer.send({ n: 2 });
      writer.end();
    });
    expect(body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
    expect([writesBeforeWaiting, writesAfterWaiting, writes]).toEqual([0, 1, 2]);
  });

  it('streams past the socket buffer with fake timers on, as an application testing an embedded server runs it', async () => {
    vi.useFakeTimers();
    const event = 'x'.repeat(4096);
    const { body } = await serveCounting(async (writer) => {
      writer.open({});
      for (let n = 0; n < 64; n++) await writer.send(event);
      writer.send('[DONE]');
      writer.end();
    });
    expect(body).toBe(`data: ${event}\n\n`.repeat(64) + 'data: [DONE]\n\n');
  }, 5_000);

  it('waits for the socket to drain when a write fills it while corked, and a slow reader gets the whole body', async () => {
    const event = 'x'.repeat(20 * 1024);
    const sent: Array<boolean> = [];
    let finished: Promise<void> = Promise.resolve();
    const port = await serve((response) => {
      finished = (async () => {
        const writer = new SseWriter(response);
        writer.open({});
        for (let n = 0; n < 48; n++) {
          const full = writer.send(event);
          sent.push(full !== undefined);
          await full;
        }
        writer.end();
      })();
    });
    const body = await readSlowly(port);
    await finished;
    expect(body).toBe(`data: ${event}\n\n`.repeat(48));
    // The first event was written in the same turn as the headers, corked, and filled the buffer: its send had to wait.
    expect(sent[0]).toBe(true);
  });

  it('does not throw when the client socket is destroyed between a send and its uncork, and the upstream stream is cancelled', async () => {
    let cancelled = false;
    let sendsAfterDestroy: Array<Promise<void> | undefined> = [];
    let finished: Promise<void> = Promise.resolve();
    const port = await serve((response) => {
      const closed = new AbortController();
      response.on('close', () => closed.abort());
      /** An upstream that would go on for ever: only a cancellation ends it. */
      async function* upstream(): AsyncGenerator<string> {
        try {
          for (let n = 0; ; n++) {
            yield `{"n":${n}}`;
            await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          cancelled = true;
        }
      }
      finished = (async () => {
        const writer = new SseWriter(response);
        writer.open({});
        for await (const event of upstream()) {
          const full = writer.send(event);
          if (!response.destroyed) {
            // Corked, its uncork scheduled: the socket goes now, before the uncork runs.
            response.socket?.destroy();
            sendsAfterDestroy = [writer.send('[after]'), writer.send('[again]')];
          }
          await full;
          if (closed.signal.aborted) break;
          await once(response, 'close');
        }
        writer.end();
      })();
    });
    const answer = await fetch(`http://127.0.0.1:${port}/`).then(
      (response) => response.text(),
      (error: unknown) => error,
    );
    await finished;
    // The scheduled uncork ran on the destroyed socket without throwing (an uncaught error would fail the run).
    await new Promise((resolve) => setImmediate(resolve));
    expect(answer).toBeInstanceOf(Error);
    // Sends made after the socket went settle (at its close) rather than wait for a 'drain' that cannot come.
    expect(sendsAfterDestroy).toHaveLength(2);
    await Promise.all(sendsAfterDestroy);
    expect(cancelled).toBe(true);
  });

  it('ends responses whose uncork is still scheduled, and the pipelined responses queued behind them leave whole, in order', async () => {
    let served = 0;
    const port = await serve((response) => {
      const n = ++served;
      const writer = new SseWriter(response);
      writer.open({});
      writer.send({ n });
      // Every other response ends in the turn it corked in, before its uncork runs; the others on a later turn.
      if (n % 2 === 1) writer.end();
      else
        setImmediate(() => {
          writer.send('[DONE]');
          writer.end();
        });
    });
    const client = connect(port, '127.0.0.1');
    const request = (close: boolean): string => `GET / HTTP/1.1\r\nhost: x\r\nconnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
    client.end(request(false) + request(false) + request(false) + request(true));
    client.setEncoding('utf8');
    let raw = '';
    for await (const piece of client) raw += piece;
    const bodies = raw.match(/data: [^\n]*/g);
    expect(bodies).toEqual(['data: {"n":1}', 'data: {"n":2}', 'data: [DONE]', 'data: {"n":3}', 'data: {"n":4}', 'data: [DONE]']);
    expect(raw.match(/HTTP\/1\.1 200/g)).toHaveLength(4);
  });
});
