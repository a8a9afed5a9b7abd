import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeBehaviour } from './fake-behaviour.js';
import type { WireContext, WireFormat } from './fake-wire.js';

/** Everything needed to carry out one behaviour on one HTTP exchange. */
export interface RespondContext {
  request: IncomingMessage;
  response: ServerResponse;
  wire: WireFormat;
  context: WireContext;
  stream: boolean;
  requestId: string;
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal;
  /** Renders a plain answer for routes that are not chat (the models list). */
  answerOverride?: unknown;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done(): void {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function sendJson(context: RespondContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
  context.response.writeHead(status, { 'content-type': 'application/json', [context.wire.requestIdHeader]: context.requestId, ...headers });
  context.response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function openStream(context: RespondContext, headers: Record<string, string> = {}): void {
  context.response.writeHead(200, {
    'content-type': context.wire.streamContentType ?? 'text/event-stream',
    'cache-control': 'no-cache',
    [context.wire.requestIdHeader]: context.requestId,
    ...headers,
  });
}

/** Carries out `behaviour`; resolves once the exchange is over (answered, reset, or abandoned). */
export async function respond(context: RespondContext, behaviour: FakeBehaviour): Promise<void> {
  const { response, wire, signal } = context;
  if (behaviour.delayMs !== undefined && behaviour.delayMs > 0) await wait(behaviour.delayMs, signal);
  if (signal.aborted) return;
  switch (behaviour.type) {
    case 'answer': {
      const headers = { ...behaviour.rateLimitHeaders, ...behaviour.headers };
      if (!context.stream) {
        sendJson(context, 200, context.answerOverride ?? wire.answerBody(context.context, behaviour), headers);
        return;
      }
      const frames = wire.streamFrames(context.context, behaviour);
      openStream(context, headers);
      for (const frame of [...frames.head, ...frames.deltas, ...frames.tail]) response.write(frame);
      response.end();
      return;
    }
    case 'error': {
      const headers: Record<string, string> = {};
      if (behaviour.retryAfter !== undefined) headers['retry-after'] = String(behaviour.retryAfter);
      if (behaviour.retryAfterMs !== undefined) headers['retry-after-ms'] = String(behaviour.retryAfterMs);
      const message = behaviour.message ?? `Scripted failure with status ${behaviour.status}`;
      const waitMs = behaviour.retryAfterMs ?? (typeof behaviour.retryAfter === 'number' ? behaviour.retryAfter * 1000 : undefined);
      Object.assign(headers, wire.errorHeaders?.(behaviour.status, behaviour.code));
      sendJson(context, behaviour.status, wire.errorBody(behaviour.status, behaviour.code, message, waitMs), headers);
      return;
    }
    case 'reset':
      context.request.socket.destroy();
      return;
    case 'malformed':
      if (!context.stream) {
        sendJson(context, 200, '{"id": "broken", "choices": [');
        return;
      }
      openStream(context);
      for (const frame of wire.streamFrames(context.context, { type: 'answer' }).head) response.write(frame);
      response.end(wire.malformedFrame());
      return;
    case 'hang': {
      if (context.stream && behaviour.afterChunks !== undefined) {
        const frames = wire.streamFrames(context.context, { type: 'answer', content: 'partial answer that never ends', chunks: 8 });
        openStream(context);
        for (const frame of [...frames.head, ...frames.deltas.slice(0, behaviour.afterChunks)]) response.write(frame);
      }
      await wait(Number.POSITIVE_INFINITY, signal);
      context.request.socket.destroy();
      return;
    }
    case 'cut-stream': {
      if (!context.stream) {
        // A request that asked for no stream: the first half of its JSON answer.
        const whole = JSON.stringify(wire.answerBody(context.context, { type: 'answer', content: 'an answer cut short in the middle' }));
        response.writeHead(200, { 'content-type': 'application/json', [wire.requestIdHeader]: context.requestId });
        const half = whole.slice(0, Math.ceil(whole.length / 2));
        if (behaviour.destroy !== true) {
          response.end(half);
          return;
        }
        await new Promise<void>((resolve) => response.write(half, () => resolve()));
        context.request.socket.destroy();
        return;
      }
      const frames = wire.streamFrames(context.context, { type: 'answer', content: 'an answer cut short in the middle', chunks: 8 });
      const sent = [...frames.head, ...frames.deltas.slice(0, behaviour.afterChunks ?? 1)];
      openStream(context);
      if (behaviour.destroy !== true) {
        for (const frame of sent) response.write(frame);
        response.end();
        return;
      }
      for (const frame of sent.slice(0, -1)) response.write(frame);
      // Destroyed once what was written has gone out: destroyed at once, the socket would send
      // nothing, not even the head, and the cut would be a reset.
      await new Promise<void>((resolve) => response.write(sent.at(-1) ?? '', () => resolve()));
      context.request.socket.destroy();
      return;
    }
  }
}
