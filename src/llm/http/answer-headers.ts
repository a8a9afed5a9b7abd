import type { UpstreamHeaders } from './upstream-headers.js';

/** An answer's headers as undici hands them to a dispatch handler: name, value, name, value… */
export type RawHeaders = Buffer[] | string[];

/** undici's header parser: lower-case names, repeated headers as arrays (what `request()` answers). */
export type ParseHeaders = (rawHeaders: RawHeaders) => UpstreamHeaders;

/** What a whole answer's caller reads of its headers on every call. */
export interface AnswerHeaderFacts {
  /** `x-request-id` (several joined with `, `); undefined when absent. */
  readonly requestId: string | undefined;
  /** OpenAI's and Azure's `x-ratelimit-*` headers as sent; undefined when there are none. */
  readonly rateLimitHeaders: Record<string, string> | undefined;
}

const REQUEST_ID = 'x-request-id';
const RATE_LIMIT_PREFIX = 'x-ratelimit-';
/** Both names above are at least this long, and start with `x`. */
const SHORTEST_NAME = 12;
const LOWER_X = 0x78;

/**
 * `x-request-id` and the `x-ratelimit-*` headers of `raw`, read in one pass without parsing the
 * rest: the same values `headerOf` and `rateLimitHeadersOf` give over undici's `parseHeaders` of
 * the same headers (names compared without case, values decoded as UTF-8, repeated ones joined
 * with `, `), for a small share of its cost on an answer with a dozen headers.
 */
export function answerHeaderFacts(raw: RawHeaders | null): AnswerHeaderFacts {
  let requestId: string | string[] | undefined;
  let limits: Record<string, string | string[]> | undefined;
  if (raw !== null) {
    for (let index = 0; index + 1 < raw.length; index += 2) {
      const name = candidateName(raw[index] as Buffer | string);
      if (name === undefined) continue;
      if (name === REQUEST_ID) requestId = added(requestId, headerValue(raw[index + 1] as Buffer | string));
      else if (name.startsWith(RATE_LIMIT_PREFIX)) {
        limits ??= {};
        limits[name] = added(limits[name], headerValue(raw[index + 1] as Buffer | string));
      }
    }
  }
  let rateLimitHeaders: Record<string, string> | undefined;
  if (limits !== undefined) {
    rateLimitHeaders = {};
    for (const name in limits) rateLimitHeaders[name] = joined(limits[name] as string | string[]);
  }
  return { requestId: requestId === undefined ? undefined : joined(requestId), rateLimitHeaders };
}

/** The lower-case name of a header that may be one of those read, else undefined (undici decodes names as latin1). */
function candidateName(entry: Buffer | string): string | undefined {
  if (entry.length < SHORTEST_NAME) return undefined;
  const first = typeof entry === 'string' ? entry.charCodeAt(0) : (entry[0] as number);
  if ((first | 0x20) !== LOWER_X) return undefined;
  return (typeof entry === 'string' ? entry : entry.toString('latin1')).toLowerCase();
}

function headerValue(entry: Buffer | string | Array<Buffer | string>): string | string[] {
  if (Array.isArray(entry)) return entry.map((part) => part.toString('utf8'));
  return typeof entry === 'string' ? entry : entry.toString('utf8');
}

/** A repeated header's values, as undici's parser gathers them (a value after an empty one replaces it). */
function added(previous: string | string[] | undefined, value: string | string[]): string | string[] {
  if (!previous) return value;
  const values = typeof previous === 'string' ? [previous] : previous;
  if (typeof value === 'string') values.push(value);
  else values.push(...value);
  return values;
}

function joined(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(', ');
}
