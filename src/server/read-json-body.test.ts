import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readJsonBody } from './read-json-body.js';

function body(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

describe('readJsonBody', () => {
  it('parses a body that arrives in pieces', async () => {
    const request = body();
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.write('{"model":');
    request.write('"m","n":1}');
    request.end();
    await expect(parsed).resolves.toEqual({ model: 'm', n: 1 });
  });

  it('decodes text whole in one chunk, and a character split between two chunks', async () => {
    const text = '{"content":"é漢😀"}';
    const whole = body();
    const parsedWhole = readJsonBody(whole as unknown as IncomingMessage, 1024);
    whole.end(Buffer.from(text));
    await expect(parsedWhole).resolves.toEqual({ content: 'é漢😀' });
    const split = body();
    const parsedSplit = readJsonBody(split as unknown as IncomingMessage, 1024);
    const bytes = Buffer.from(text);
    // Inside the emoji's four bytes.
    const cut = bytes.indexOf(Buffer.from('😀')) + 2;
    split.write(bytes.subarray(0, cut));
    split.end(bytes.subarray(cut));
    await expect(parsedSplit).resolves.toEqual({ content: 'é漢😀' });
  });

  it('refuses a body that grows past the limit while arriving, with 413', async () => {
    const request = body();
    const parsed = readJsonBody(request as unknown as IncomingMessage, 8);
    request.write('{"a":"0123456789"}');
    await expect(parsed).rejects.toMatchObject({ answer: { status: 413 } });
  });

  it('fails when the caller disconnects before the body ends', async () => {
    const request = body();
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.write('{"a":');
    request.destroy();
    await expect(parsed).rejects.toThrow(/cut short|disconnected/);
  });
});

describe('readJsonBody with Content-Encoding', () => {
  const json = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZip', gzipSync],
  ] as const)('decodes a %s body', async (encoding, compress) => {
    const request = body({ 'content-encoding': encoding });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(compress(Buffer.from(json)));
    await expect(parsed).resolves.toEqual(JSON.parse(json));
  });

  it('takes identity as no encoding', async () => {
    const request = body({ 'content-encoding': 'identity' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(json);
    await expect(parsed).resolves.toEqual(JSON.parse(json));
  });

  it('refuses an encoding it cannot decode with 415, naming it', async () => {
    const request = body({ 'content-encoding': 'zstd' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(json);
    await expect(parsed).rejects.toMatchObject({
      answer: { status: 415, code: 'unsupported_content_encoding', message: expect.stringMatching(/"zstd".*gzip, deflate or br/) },
    });
  });

  it('says a body that is not what its Content-Encoding names is not, rather than not JSON', async () => {
    const request = body({ 'content-encoding': 'gzip' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(json);
    await expect(parsed).rejects.toMatchObject({ answer: { status: 400, code: 'invalid_content_encoding' } });
  });

  it.each(['gzip', 'deflate', 'br'])('says a body that is not %s, as its Content-Encoding says, is not, with 400', async (encoding) => {
    const request = body({ 'content-encoding': encoding });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(json);
    await expect(parsed).rejects.toMatchObject({
      answer: { status: 400, code: 'invalid_content_encoding', message: expect.stringContaining(`not valid ${encoding}`) },
    });
  });

  it('holds the decoded body to the limit: a small compressed body that inflates past it gets 413', async () => {
    const request = body({ 'content-encoding': 'gzip' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 64 * 1024);
    const bomb = gzipSync(Buffer.from(`{"a":"${'0'.repeat(10 * 1024 * 1024)}"}`));
    expect(bomb.length).toBeLessThan(64 * 1024);
    request.end(bomb);
    await expect(parsed).rejects.toMatchObject({ answer: { status: 413 } });
  });

  it('holds the body as sent to the limit too: compressed bytes past it get 413, however little they decode to', async () => {
    const request = body({ 'content-encoding': 'gzip' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    // Empty gzip members decode to nothing: without a count of what arrives, they could come without end.
    const padding = Buffer.concat(Array.from({ length: 200 }, () => gzipSync(Buffer.alloc(0))));
    expect(padding.length).toBeGreaterThan(1024);
    request.end(Buffer.concat([padding, gzipSync(Buffer.from(json))]));
    await expect(parsed).rejects.toMatchObject({ answer: { status: 413, code: 'request_too_large' } });
  });

  it('fails when the caller disconnects in the middle of a compressed body', async () => {
    const request = body({ 'content-encoding': 'gzip' });
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    const compressed = gzipSync(Buffer.from(json));
    request.write(compressed.subarray(0, 10));
    request.destroy();
    await expect(parsed).rejects.toThrow(/cut short|disconnected/);
  });
});

describe('readJsonBody with a byte order mark', () => {
  it('parses a body that starts with UTF-8’s byte order mark, as a file saved by some editors does', async () => {
    const request = body();
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"model":"m"}')]));
    await expect(parsed).resolves.toEqual({ model: 'm' });
  });

  it('still refuses a body that is not JSON after its byte order mark', async () => {
    const request = body();
    const parsed = readJsonBody(request as unknown as IncomingMessage, 1024);
    request.end('\ufeff{"model":');
    await expect(parsed).rejects.toMatchObject({ answer: { status: 400, code: 'invalid_json' } });
  });
});
