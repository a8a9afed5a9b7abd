import type { ServerResponse } from 'node:http';
import { type ErrorAnswer, errorBody, retryAfterSeconds } from './http-error.js';

/** Sends `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/** Sends OpenAI's error JSON, with `Retry-After` when the answer says how long to wait. */
export function sendError(response: ServerResponse, answer: ErrorAnswer, headers: Record<string, string> = {}): void {
  const retry = answer.retryAfterMs === undefined ? {} : { 'retry-after': retryAfterSeconds(answer.retryAfterMs) };
  // A refused body may still be arriving: close the connection rather than read the rest.
  const close = answer.status === 413 ? { connection: 'close' } : {};
  sendJson(response, answer.status, errorBody(answer), { ...headers, ...retry, ...close });
}
