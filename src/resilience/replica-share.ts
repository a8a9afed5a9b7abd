/**
 * One replica's share of a limit the whole fleet shares: `limit` divided by the `replicas`
 * expected, rounded down, and at least 1 so that a small limit still lets each replica make calls.
 * Used for the local buckets a replica falls back to when the shared store is down.
 */
export function replicaShare(limit: number, replicas: number): number {
  return Math.max(1, Math.floor(limit / replicas));
}
