import type { DeploymentState } from './deployment-state.js';
import type { RoutingStrategyName } from './routes-config.js';

/** Picks one deployment out of those that may take an attempt now (never an empty list). */
export type RoutingStrategy = (candidates: readonly DeploymentState[], random: () => number) => DeploymentState;

/** One at random, in proportion to `weight`. */
export const weightedRandom: RoutingStrategy = (candidates, random) => {
  const total = candidates.reduce((sum, candidate) => sum + candidate.config.weight, 0);
  let point = random() * total;
  for (const candidate of candidates) {
    point -= candidate.config.weight;
    if (point < 0) return candidate;
  }
  return candidates[candidates.length - 1]!;
};

/** The fewest calls in flight; ties go by weight at random. */
export const leastBusy: RoutingStrategy = (candidates, random) => {
  const fewest = Math.min(...candidates.map((candidate) => candidate.inFlight));
  return weightedRandom(
    candidates.filter((candidate) => candidate.inFlight === fewest),
    random,
  );
};

/**
 * Power of two choices: two deployments at random, the one whose recent latency times its calls
 * in flight (plus one) is lower. A deployment never measured scores 0, so it is tried soon.
 */
export const lowestLatency: RoutingStrategy = (candidates, random) => {
  if (candidates.length === 1) return candidates[0]!;
  const first = Math.floor(random() * candidates.length);
  let second = Math.floor(random() * (candidates.length - 1));
  if (second >= first) second++;
  const a = candidates[first]!;
  const b = candidates[second]!;
  const score = (state: DeploymentState) => (state.latencyMs ?? 0) * (state.inFlight + 1);
  return score(b) < score(a) ? b : a;
};

/** The most rate-limit headroom left (the fraction of its buckets); ties go by weight at random. */
export const usageBased: RoutingStrategy = (candidates, random) => {
  const most = Math.max(...candidates.map((candidate) => candidate.headroom));
  return weightedRandom(
    candidates.filter((candidate) => candidate.headroom >= most - 1e-9),
    random,
  );
};

/** The strategy of each name. */
export const STRATEGIES: Readonly<Record<RoutingStrategyName, RoutingStrategy>> = {
  'weighted-random': weightedRandom,
  'least-busy': leastBusy,
  'lowest-latency': lowestLatency,
  'usage-based': usageBased,
};
