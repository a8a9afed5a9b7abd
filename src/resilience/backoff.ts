/**
 * The wait before attempt `attempt + 1`: exponential from `minMs` (doubling per attempt) with
 * jitter up to the same amount again, always between `minMs` and `maxMs`. Jitter spreads the
 * retries of many callers that failed together.
 *
 * With the defaults (2 s, 10 s): 2–4 s after the first attempt, 4–8 s after the second, then 8–10 s.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** (attempt - 1));
  const delay = base + random() * base;
  return Math.round(Math.min(maxMs, Math.max(minMs, delay)));
}
