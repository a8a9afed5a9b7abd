import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * Reads a request body of at most `limitBytes` and parses it as JSON. Throws an {@link HttpError}:
 * 413 when the body is larger (judged by `Content-Length` before reading, then by what arrives),
 * 400 when it is empty, not JSON, or nested deeper than {@link MAX_JSON_DEPTH}.
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const { chunks, size } = await readChunks(request, limitBytes);
  // A small body arrives in one chunk: decoded where it lies rather than copied into a new buffer first.
  const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new HttpError({
      status: 400,
      type: 'invalid_request_error',
      code: 'too_deeply_nested',
      message: `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; send a flatter request.`,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Only now is it worth a look for an empty body (a trimmed copy of every body would cost a pass over it).
    if (text.trim() === '') {
      throw new HttpError({
        status: 400,
        type: 'invalid_request_error',
        code: 'empty_body',
        message: 'The request body is empty; send a JSON object.',
      });
    }
    // The parser's message quotes the body, which may hold prompt text: say only what is wrong.
    throw new HttpError({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_json',
      message: 'The request body is not valid JSON; send a JSON object with Content-Type: application/json.',
    });
  }
}

/**
 * The body's chunks, read with 'data' and 'end' listeners: an async iterator over the request
 * (for await) costs more per request than the body takes to arrive.
 */
function readChunks(request: IncomingMessage, limitBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        done();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve({ chunks, size });
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    // A caller that disconnects mid-body: 'close' without 'end'.
    const onClose = (): void => {
      done();
      reject(new Error('The request body was cut short: the caller disconnected'));
    };
    const done = (): void => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      request.pause();
    };
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError({
    status: 413,
    type: 'invalid_request_error',
    code: 'request_too_large',
    message: `The request body is larger than ${limitBytes} bytes (SERVER_BODY_LIMIT_BYTES); send a smaller request.`,
  });
}
