import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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
});
