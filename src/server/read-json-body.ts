import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpError } from './http-error.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * Reads a request body of at most `limitBytes` and parses it as JSON. A body sent with
 * `Content-Encoding: gzip` (or `x-gzip`), `deflate` or `br` is decoded first, and the limit holds
 * for the decoded body as well. Throws an {@link HttpError}: 413 when the body is larger (judged by
 * `Content-Length` before reading, then by what arrives and what it decodes to), 415 for another
 * encoding, 400 when it is empty, not JSON, nested deeper than {@link MAX_JSON_DEPTH}, or not in
 * the encoding it names.
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const encoding = request.headers['content-encoding'];
  const { chunks, size } =
    encoding === undefined ? await readChunks(request, limitBytes, undefined, pause) : await readDecoded(request, encoding, limitBytes);
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
    // A file saved with UTF-8's byte order mark (some editors write one) and sent as it is: JSON
    // after the mark is taken (RFC 8259 lets a parser ignore it). Looked for only now, at no cost to other bodies.
    if (text.charCodeAt(0) === BYTE_ORDER_MARK) return parseAfterMark(text);
    // Only now is it worth a look for an empty body (a trimmed copy of every body would cost a pass over it).
    if (text.trim() === '') {
      throw new HttpError({
        status: 400,
        type: 'invalid_request_error',
        code: 'empty_body',
        message: 'The request body is empty; send a JSON object.',
      });
    }
    throw invalidJson();
  }
}

const BYTE_ORDER_MARK = 0xfeff;

function parseAfterMark(text: string): unknown {
  try {
    return JSON.parse(text.slice(1)) as unknown;
  } catch {
    throw invalidJson();
  }
}

function invalidJson(): HttpError {
  // The parser's message quotes the body, which may hold prompt text: say only what is wrong.
  return new HttpError({
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_json',
    message: 'The request body is not valid JSON; send a JSON object with Content-Type: application/json.',
  });
}

/** The decoders of the encodings a request body may be sent in, by `Content-Encoding` (lower case). */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The body decoded from `encoding` (the request as it is for `identity`): fails when the caller
 * disconnects, with an {@link HttpError} 413 when the bytes as sent or as decoded pass
 * `limitBytes`, and with a 400 when the bytes are not in that encoding. Any
 * other encoding is refused with 415 before a byte is read. Once decoding stops (a refusal), the
 * rest of the request is read and dropped rather than left unread: the connection then stays whole
 * for the answer, where closing it over unread bytes would reset it and lose the answer.
 */
function readDecoded(request: IncomingMessage, encoding: string, limitBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  const name = encoding.trim().toLowerCase();
  if (name === '' || name === 'identity') return readChunks(request, limitBytes, undefined, pause);
  const decoder = Object.hasOwn(DECODERS, name) ? DECODERS[name] : undefined;
  if (decoder === undefined) {
    throw new HttpError({
      status: 415,
      type: 'invalid_request_error',
      code: 'unsupported_content_encoding',
      message: `The request body's Content-Encoding ${JSON.stringify(encoding.slice(0, 32))} is not supported; send it uncompressed, or as gzip, deflate or br.`,
    });
  }
  const decompress = decoder();
  // A failure after the body was given up on (its refusal is being sent) concerns no one.
  decompress.on('error', ignore);
  // The bytes as sent are held to the limit as well: a chunked body can be far larger than what it
  // decodes to (empty gzip members decode to nothing), and would otherwise be read without end.
  let sent = 0;
  const countSent = (chunk: Buffer): void => {
    sent += chunk.length;
    if (sent > limitBytes) decompress.destroy(tooLarge(limitBytes));
  };
  request.on('data', countSent);
  request.pipe(decompress);
  request.once('close', () => {
    if (!request.readableEnded) decompress.destroy(cutShort());
  });
  return readChunks(decompress, limitBytes, name, () => {
    request.off('data', countSent);
    request.unpipe(decompress);
    decompress.destroy();
    request.resume();
  });
}

function pause(body: Readable): void {
  body.pause();
}

function ignore(): void {}

/**
 * What a failure of the body's stream means for the caller: bytes not in their `Content-Encoding`
 * (zlib's `Z_…` codes; Brotli's decoder's `ERR__ERROR_…`, its error names after `ERR_`) are the
 * caller's mistake; a disconnect or a socket error is kept.
 */
function bodyFailure(error: NodeJS.ErrnoException, encoding: string | undefined): Error {
  const code = error.code ?? '';
  if (encoding === undefined || !(code.startsWith('Z_') || code.startsWith('ERR__') || code.startsWith('ERR_BROTLI'))) return error;
  return new HttpError({
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_content_encoding',
    message: `The request body is not valid ${encoding}, as its Content-Encoding says it is; send it so encoded, or uncompressed without Content-Encoding.`,
  });
}

/**
 * The body's chunks, read with 'data' and 'end' listeners: an async iterator over the request
 * (for await) costs more per request than the body takes to arrive. `stop` is called on `request`
 * when reading ends early (a refusal, a failure).
 */
function readChunks(
  request: Readable,
  limitBytes: number,
  encoding: string | undefined,
  stop: (body: Readable) => void,
): Promise<{ chunks: Buffer[]; size: number }> {
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
      reject(bodyFailure(error, encoding));
    };
    // A caller that disconnects mid-body: 'close' without 'end'.
    const onClose = (): void => {
      done();
      reject(cutShort());
    };
    const done = (): void => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      stop(request);
    };
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function cutShort(): Error {
  return new Error('The request body was cut short: the caller disconnected');
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError({
    status: 413,
    type: 'invalid_request_error',
    code: 'request_too_large',
    message: `The request body is larger than ${limitBytes} bytes (SERVER_BODY_LIMIT_BYTES); send a smaller request.`,
  });
}
