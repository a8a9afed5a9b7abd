import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
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
