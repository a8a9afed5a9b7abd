import { util } from 'undici';
import { describe, expect, it } from 'vitest';
import { answerHeaderFacts, type RawHeaders } from './answer-headers.js';
import { headerOf, rateLimitHeadersOf, type UpstreamHeaders } from './upstream-headers.js';

const parseHeaders = util.parseHeaders as (raw: RawHeaders) => UpstreamHeaders;

/** name, value, name, value… as Buffers, as undici's parser hands them to a handler. */
function raw(...entries: string[]): Buffer[] {
  return entries.map((entry) => Buffer.from(entry, 'utf8'));
}

/** What the JSON path read before: undici's whole parse, then the two lookups. */
function parsedFacts(headers: RawHeaders) {
  const parsed = parseHeaders(headers);
  return { requestId: headerOf(parsed, 'x-request-id'), rateLimitHeaders: rateLimitHeadersOf(parsed) };
}

describe('answerHeaderFacts', () => {
  const cases: Array<[string, RawHeaders]> = [
    ['no headers', []],
    ['none of the two', raw('content-type', 'application/json', 'content-length', '12', 'x-other-header-long', 'v')],
    [
      'an OpenAI answer',
      raw(
        'Content-Type',
        'application/json',
        'X-Request-Id',
        'req_123',
        'x-ratelimit-limit-requests',
        '10000',
        'X-RateLimit-Remaining-Tokens',
        '149984',
        'openai-processing-ms',
        '12',
        'x-ratelimit-reset-requests',
        '6ms',
      ),
    ],
    [
      'repeated headers',
      raw('x-request-id', 'a', 'x-ratelimit-limit-requests', '1', 'X-REQUEST-ID', 'b', 'x-ratelimit-limit-requests', '2'),
    ],
    ['an empty value followed by another', raw('x-request-id', '', 'x-request-id', 'later', 'x-ratelimit-x', '', 'x-ratelimit-x', 'y')],
    ['an empty value alone', raw('x-request-id', '', 'x-ratelimit-empty', '')],
    ['UTF-8 values', raw('x-request-id', 'réq-✓', 'x-ratelimit-note', 'naïve')],
    ['a name shorter than the two', raw('x-req', 'no', 'x-ratelimit', 'no', 'x-ratelimit-', 'bare prefix')],
    ['names as strings', ['X-Request-Id', 'req_s', 'x-ratelimit-limit-tokens', '5']],
    // Bytes as they may come off the wire: values are decoded as UTF-8 (0xE9 alone is not UTF-8), names as latin1.
    [
      'values with bytes that are not UTF-8',
      [
        Buffer.from('x-request-id'),
        Buffer.from([0x72, 0xe9, 0x71]),
        Buffer.from('x-ratelimit-note'),
        Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65, 0xff]),
      ],
    ],
    [
      'names with bytes that are not ASCII',
      [
        // X-RateLimit-Caf + 0xC9 (É in latin1, é once lower-cased)
        Buffer.from([0x58, 0x2d, 0x52, 0x61, 0x74, 0x65, 0x4c, 0x69, 0x6d, 0x69, 0x74, 0x2d, 0x43, 0x61, 0x66, 0xc9]),
        Buffer.from('1'),
        // x-ratelimit-caf + é in UTF-8 (0xC3 0xA9: Ã© in latin1, ã© once lower-cased)
        Buffer.from([0x78, 0x2d, 0x72, 0x61, 0x74, 0x65, 0x6c, 0x69, 0x6d, 0x69, 0x74, 0x2d, 0x63, 0x61, 0x66, 0xc3, 0xa9]),
        Buffer.from('2'),
        // x-request-id with its last letter as 0xC4 (Ä): not x-request-id
        Buffer.from([0x78, 0x2d, 0x72, 0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0x2d, 0x69, 0xc4]),
        Buffer.from('not the id'),
        Buffer.from('x-request-id'),
        Buffer.from('req_bytes'),
      ],
    ],
  ];
  for (const [name, headers] of cases) {
    it(`reads what undici's parse and the lookups read: ${name}`, () => {
      expect(answerHeaderFacts(headers)).toEqual(parsedFacts(headers));
    });
  }

  it('reads the facts of the raw-byte cases, not nothing', () => {
    const facts = cases.filter(([name]) => name.includes('bytes')).map(([, headers]) => answerHeaderFacts(headers));
    expect(facts).toEqual([
      { requestId: 'r\uFFFDq', rateLimitHeaders: { 'x-ratelimit-note': 'na\uFFFDve\uFFFD' } },
      { requestId: 'req_bytes', rateLimitHeaders: { 'x-ratelimit-caf\u00e9': '1', 'x-ratelimit-caf\u00e3\u00a9': '2' } },
    ]);
  });

  it('keeps the order in which the rate-limit headers first came', () => {
    const headers = raw('x-ratelimit-b', '1', 'x-ratelimit-a', '2', 'x-ratelimit-b', '3');
    expect(Object.entries(answerHeaderFacts(headers).rateLimitHeaders ?? {})).toEqual(
      Object.entries(parsedFacts(headers).rateLimitHeaders ?? {}),
    );
  });

  it('reads nothing from an answer without headers', () => {
    expect(answerHeaderFacts(null)).toEqual({ requestId: undefined, rateLimitHeaders: undefined });
  });
});
