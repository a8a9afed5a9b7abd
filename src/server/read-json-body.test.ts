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
