import { describe, expect, it } from 'vitest';
import { SseDecoder } from './sse-decoder.js';

function decodeAll(chunks: Array<string | Buffer>): Array<{ event: string | undefined; data: string }> {
  const decoder = new SseDecoder();
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

describe('SseDecoder', () => {
  it('emits one event per blank line, with data lines joined', () => {
    expect(decodeAll(['data: {"a":1}\n\ndata: one\ndata: two\n\n'])).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: 'one\ntwo' },
    ]);
  });

  it('joins lines and events split anywhere across chunks, CRLF included', () => {
    const text = 'event: error\r\ndata: {"error":{"message":"x"}}\r\n\r\ndata: [DONE]\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(decodeAll([text.slice(0, cut), text.slice(cut)])).toEqual([
        { event: 'error', data: '{"error":{"message":"x"}}' },
        { event: undefined, data: '[DONE]' },
      ]);
    }
  });

  it('keeps a UTF-8 character split between two chunks whole', () => {
    const bytes = Buffer.from('data: {"content":"héllo 👋"}\n\n');
    const cut = bytes.indexOf(0xf0) + 2;
    expect(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([{ event: undefined, data: '{"content":"héllo 👋"}' }]);
  });

  it('skips comments, unknown fields and blank lines without data; honours lone CR line ends', () => {
    expect(decodeAll([': keep-alive\n\nid: 7\nretry: 10\n\n', 'data:no-space\r\r\n'])).toEqual([{ event: undefined, data: 'no-space' }]);
  });

  it('ends a line at a lone CR as soon as it arrives, and skips the LF of a CRLF split across chunks', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: a\r\r')).toEqual([{ event: undefined, data: 'a' }]);
    expect(decoder.push('data: b\r')).toEqual([]);
    expect(decoder.push('\r')).toEqual([{ event: undefined, data: 'b' }]);
    expect(decoder.push('data: c\r')).toEqual([]);
    // The LF completes the CRLF that ended 'data: c'; only the CRLF after it is a blank line.
    expect(decoder.push('\n\r\n')).toEqual([{ event: undefined, data: 'c' }]);
    expect(decoder.push('')).toEqual([]);
    expect(decoder.push('\n')).toEqual([]);
  });

  it('skips one byte order mark at the start of the body, and only there', () => {
    expect(decodeAll(['\uFEFFdata: first\n\ndata: second\n\n'])).toEqual([
      { event: undefined, data: 'first' },
      { event: undefined, data: 'second' },
    ]);
    const bom = Buffer.from('\uFEFFdata: x\n\n');
    expect(decodeAll([bom.subarray(0, 2), bom.subarray(2)])).toEqual([{ event: undefined, data: 'x' }]);
    expect(decodeAll(['data: a\n\n', '\uFEFFdata: b\n\n'])).toEqual([{ event: undefined, data: 'a' }]);
  });

  it('never emits an event the body ended in the middle of', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: {"choices": [')).toEqual([]);
  });
});
