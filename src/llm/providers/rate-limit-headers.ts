/** The prefixes of providers' rate-limit headers: OpenAI's and Azure's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`. */
const PREFIXES = ['x-ratelimit-', 'anthropic-ratelimit-'];

/** The rate-limit headers of a response, as the provider sent them; undefined when there are none. */
export function rateLimitHeaders(headers: Headers | undefined): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  const found: Record<string, string> = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (PREFIXES.some((prefix) => lower.startsWith(prefix))) found[lower] = value;
  });
  return Object.keys(found).length === 0 ? undefined : found;
}
