/** One bucket's rule: `capacity` units, refilled evenly over `windowMs`. */
export interface BucketRule {
  capacity: number;
  windowMs: number;
}

/** A bucket's level at a moment. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/** The bucket's level at `now`: refilled since `updatedAt`, capped at capacity. Time never runs backwards. */
export function refill(state: BucketState, rule: BucketRule, now: number): number {
  const elapsed = now > state.updatedAt ? now - state.updatedAt : 0;
  const tokens = state.tokens + (elapsed * rule.capacity) / rule.windowMs;
  return Math.min(tokens, rule.capacity);
}

/**
 * Milliseconds until a bucket at `level` holds `cost` (0 when it already does). A cost above
 * capacity needs a full bucket, then drives it below zero, so the quota still holds over time.
 */
export function waitFor(level: number, cost: number, rule: BucketRule): number {
  const needed = Math.min(cost, rule.capacity);
  if (level >= needed) return 0;
  return Math.ceil(((needed - level) * rule.windowMs) / rule.capacity);
}
