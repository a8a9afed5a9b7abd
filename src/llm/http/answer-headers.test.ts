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
  ];
  for (const [name, headers] of cases) {
    it(`reads what undici's parse and the lookups read: ${name}`, () => {
      expect(answerHeaderFacts(headers)).toEqual(parsedFacts(headers));
    });
  }

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
