import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, errors, util } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../llm.test-helpers.js';
import type { ParseHeaders } from './answer-headers.js';
import { type EventAnswer, exchangeEvents } from './event-exchange.js';
import type { SseEvent } from './sse-decoder.js';
import { PAUSE_AT_EVENTS } from './sse-event-queue.js';
import { UpstreamStatusError } from './upstream-status-error.js';

/*
 * exchangeEvents over a real undici Agent and a real node:http server on loopback: the server's
 * handler is set by each test, and each request's server-side socket is kept to see it closed.
 */

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let handler: Handler;
let origin: string;
let agent: Agent | undefined;
/** Resolves when the server-side socket of the latest request closes. */
let socketClosed: Promise<void>;

const parseHeaders = util.parseHeaders as unknown as ParseHeaders;

beforeAll(async () => {
  server = createServer((request, response) => {
    socketClosed = new Promise((resolve) => request.socket.once('close', () => resolve()));
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(async () => {
  await agent?.destroy();
  agent = undefined;
});

function exchange(signal: AbortSignal, options: Agent.Options = {}): Promise<EventAnswer> {
  agent ??= new Agent(options);
  return exchangeEvents(agent, { origin, path: '/v1/chat/completions', method: 'POST', body: '{}' }, signal, parseHeaders);
}

function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** A promise and the function that resolves it, to hold the server until the test says. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function readAll(events: AsyncIterable<SseEvent>): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe('exchangeEvents', () => {
  it('decodes events as their chunks arrive: one split across chunks and a character split in two, many in one chunk', async () => {
    const held = gate();
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_s', 'x-ratelimit-remaining-tokens': '9' });
      const cafe = Buffer.from('data: café\n\n');
      const split = cafe.indexOf(0xc3) + 1;
      response.write(Buffer.concat([Buffer.from('event: first\ndata: a\n\n'), cafe.subarray(0, split)]));
      void held.opened.then(() => {
        const many = Array.from({ length: 20 }, (_, index) => `data: ${index}\n\n`).join('');
        response.end(Buffer.concat([cafe.subarray(split), Buffer.from(`${many}data: [DONE]\n\n`)]));
      });
    };
    const signal = new AbortController().signal;
    const answer = await exchange(signal);
    expect(answer.requestId).toBe('req_s');
    expect(answer.rateLimitHeaders).toEqual({ 'x-ratelimit-remaining-tokens': '9' });
    expect(answer.headers).toMatchObject({ 'content-type': 'text/event-stream', 'x-request-id': 'req_s' });
    expect(answer.headers).toBe(answer.headers);

    const iterator = answer.events[Symbol.asyncIterator]();
    expect(iterator).toBe(answer.events);
    expect(await iterator.next()).toEqual({ value: { event: 'first', data: 'a' }, done: false });
    // The rest is sent only now: the event split across the two chunks is joined.
    held.open();
    const rest = await readAll(answer.events);
    expect(rest.map((event) => event.data)).toEqual(['café', ...Array.from({ length: 20 }, (_, index) => `${index}`), '[DONE]']);
    expect(await answer.events.next()).toEqual({ value: undefined, done: true });
    expect(listeners(signal)).toBe(0);
  });

  it('gives each event of a body with lone CR line ends as its chunk arrives, the last one included, and skips a leading byte order mark', async () => {
    const held = gate();
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('\uFEFFdata: a\r\r');
      void held.opened.then(() => response.end('data: [DONE]\r\r'));
    };
    const answer = await exchange(new AbortController().signal);
    // The first event is complete in the first chunk: it does not wait for the second.
    expect(await answer.events.next()).toEqual({ value: { event: undefined, data: 'a' }, done: false });
    held.open();
    expect(await readAll(answer.events)).toEqual([{ event: undefined, data: '[DONE]' }]);
  });

  it('reads an error status’s body whole and fails with an UpstreamStatusError carrying its facts', async () => {
    handler = (_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'x-request-id': 'req_429', 'retry-after': '2' });
      response.write('{"error":{"message":"Slow down",');
      setImmediate(() => response.end('"type":"requests","code":"rate_limit_exceeded","param":null}}'));
    };
    const signal = new AbortController().signal;
    const error = await rejection(exchange(signal));
    expect(error).toBeInstanceOf(UpstreamStatusError);
    expect(error).toMatchObject({
      status: 429,
      message: 'Slow down',
      code: 'rate_limit_exceeded',
      requestId: 'req_429',
      retryAfterMs: 2000,
    });
    expect(listeners(signal)).toBe(0);
  });

  it('fails at once with the signal’s reason when aborted while the connection is still being made', async () => {
    let attempts = 0;
    agent = new Agent({
      connect: () => {
        attempts++;
      },
    });
    const controller = new AbortController();
    const pending = exchange(controller.signal);
    await expect.poll(() => attempts).toBe(1);
    const reason = new Error('the share of time is up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('refuses an aborted signal without sending anything', async () => {
    let requests = 0;
    handler = () => requests++;
    const controller = new AbortController();
    const reason = new Error('gone already');
    controller.abort(reason);
    await expect(exchange(controller.signal)).rejects.toBe(reason);
    expect(requests).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('fails with the signal’s reason when aborted before the headers, and closes the connection', async () => {
    const arrived = gate();
    handler = () => arrived.open();
    const controller = new AbortController();
    const pending = exchange(controller.signal);
    await arrived.opened;
    const reason = new Error('caller left before the answer');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await socketClosed;
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects a later read with the signal’s reason when aborted after the headers, and closes the connection', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\n');
    };
    const controller = new AbortController();
    const answer = await exchange(controller.signal);
    const reason = new Error('caller left after the headers');
    controller.abort(reason);
    expect(listeners(controller.signal)).toBe(0);
    await expect(answer.events.next()).rejects.toBe(reason);
    expect(await answer.events.next()).toEqual({ value: undefined, done: true });
    await socketClosed;
  });

  it('still gives every event, then the end, to reads after an abort that came once the body had ended', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('data: 1\n\ndata: 2\n\n');
    };
    const controller = new AbortController();
    const answer = await exchange(controller.signal);
    // The body's end removes the listener on the signal: wait for it, reading nothing.
    while (listeners(controller.signal) > 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('caller left after the end'));
    expect(await readAll(answer.events)).toEqual([
      { event: undefined, data: '1' },
      { event: undefined, data: '2' },
    ]);
    expect(await answer.events.next()).toEqual({ value: undefined, done: true });
  });

  it('rejects a pending read with the signal’s reason when aborted mid-body, and closes the connection', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\ndata: 2\n\n');
    };
    const controller = new AbortController();
    const answer = await exchange(controller.signal);
    const events = answer.events;
    expect((await events.next()).value).toEqual({ event: undefined, data: '1' });
    expect((await events.next()).value).toEqual({ event: undefined, data: '2' });
    const pending = events.next();
    const reason = new Error('caller left mid-body');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await socketClosed;
    expect(listeners(controller.signal)).toBe(0);
  });

  it('closes the connection when the consumer stops early, and leaves no listener on the signal', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\ndata: 2\n\n');
    };
    const signal = new AbortController().signal;
    const answer = await exchange(signal);
    for await (const event of answer.events) {
      expect(event.data).toBe('1');
      break;
    }
    await socketClosed;
    expect(listeners(signal)).toBe(0);
    expect(await answer.events.next()).toEqual({ value: undefined, done: true });

    const again = await exchange(signal);
    expect((await again.events.next()).value).toEqual({ event: undefined, data: '1' });
    expect((await again.events.next()).value).toEqual({ event: undefined, data: '2' });
    const pending = again.events.next();
    expect(await again.events.return()).toEqual({ value: undefined, done: true });
    // A read waiting when the consumer returns is done, as with a generator.
    expect(await pending).toEqual({ value: undefined, done: true });
    await socketClosed;
    expect(listeners(signal)).toBe(0);

    const thrown = await exchange(signal);
    const cause = new Error('the consumer failed');
    await expect(thrown.events.throw(cause)).rejects.toBe(cause);
    await socketClosed;
    expect(listeners(signal)).toBe(0);
  });

  it('gives undici’s body timeout, unchanged, to the read after the events that came before it', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\n');
    };
    const signal = new AbortController().signal;
    const answer = await exchange(signal, { bodyTimeout: 100 });
    expect((await answer.events.next()).value).toEqual({ event: undefined, data: '1' });
    const error = await rejection(answer.events.next());
    expect(error).toBeInstanceOf(errors.BodyTimeoutError);
    expect((error as { code?: string }).code).toBe('UND_ERR_BODY_TIMEOUT');
    expect(await answer.events.next()).toEqual({ value: undefined, done: true });
    expect(listeners(signal)).toBe(0);
  });

  it('gives undici’s error for a socket the server closed mid-body to the next read, after the events before it', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 1\n\ndata: 2\n\n', () => setImmediate(() => response.socket?.destroy()));
    };
    const signal = new AbortController().signal;
    const answer = await exchange(signal);
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of answer.events) seen.push(event.data);
      })(),
    );
    expect(seen).toEqual(['1', '2']);
    expect(error).toBeInstanceOf(errors.SocketError);
    expect((error as { code?: string }).code).toBe('UND_ERR_SOCKET');
    expect(listeners(signal)).toBe(0);
  });

  it('pauses the socket while events wait unread, keeps their number bounded, and resumes as they are read, in order', async () => {
    const count = 150_000;
    const perWrite = 1_000;
    const padding = 'x'.repeat(80);
    let written = 0;
    let blocked = false;
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      // About 15 MB, written as fast as the socket takes it: more than the loopback socket's buffers
      // hold, so the server's writes back up once the client stops reading.
      const write = (): void => {
        while (written < count) {
          const lines: string[] = [];
          for (let index = written; index < written + perWrite; index++) lines.push(`data: ${index} ${padding}\n\n`);
          written += perWrite;
          if (!response.write(lines.join(''))) {
            blocked = true;
            response.once('drain', () => {
              blocked = false;
              write();
            });
            return;
          }
        }
        response.end();
      };
      write();
    };
    const signal = new AbortController().signal;
    const answer = await exchange(signal);
    const events = answer.events;
    await expect.poll(() => events.paused, { timeout: 5_000 }).toBe(true);
    await expect.poll(() => blocked, { timeout: 5_000 }).toBe(true);
    const sent = written;
    expect(sent).toBeLessThan(count);
    // At most one socket read's worth of events beyond the limit.
    const bound = PAUSE_AT_EVENTS + Math.ceil((64 * 1024) / (padding.length + 10));
    const waiting = events.buffered;
    expect(waiting).toBeGreaterThanOrEqual(PAUSE_AT_EVENTS);
    expect(waiting).toBeLessThanOrEqual(bound);
    // Still paused, nothing more decoded or sent, after a few turns of the event loop.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(events.buffered).toBe(waiting);
    expect(written).toBe(sent);
    expect(blocked).toBe(true);

    let inOrder = 0;
    let largest = 0;
    for await (const event of events) {
      if (event.data === `${inOrder} ${padding}`) inOrder++;
      largest = Math.max(largest, events.buffered);
    }
    expect(inOrder).toBe(count);
    expect(largest).toBeLessThanOrEqual(bound);
    expect(listeners(signal)).toBe(0);
  });
});
