import { describe, expect, it } from 'vitest';
import { DeploymentState } from './deployment-state.js';
import { deployment, sequence } from './routing.test-helpers.js';
import { leastBusy, lowestLatency, usageBased, weightedRandom } from './routing-strategy.js';

const states = (...weights: number[]): DeploymentState[] =>
  weights.map((weight, index) => new DeploymentState(deployment('g', `d${index}`, { weight, rpm: 100 })));

describe('routing strategies', () => {
  it('weighted random picks in proportion to the weights', () => {
    const [a, b] = states(1, 3);
    expect(weightedRandom([a!, b!], () => 0.2)).toBe(a); // 0.8 of 4 falls in the first weight
    expect(weightedRandom([a!, b!], () => 0.3)).toBe(b); // 1.2 of 4 falls in the second
    const random = sequence(...Array.from({ length: 400 }, (_, index) => (index + 0.5) / 400));
    const picks = Array.from({ length: 400 }, () => weightedRandom([a!, b!], random));
    expect(picks.filter((pick) => pick === b).length).toBe(300);
  });

  it('least busy picks the fewest calls in flight', () => {
    const [a, b, c] = states(1, 1, 1);
    a!.inFlight = 2;
    b!.inFlight = 0;
    c!.inFlight = 1;
    expect(leastBusy([a!, b!, c!], () => 0.99)).toBe(b);
  });

  it('lowest latency compares two at random by latency times load', () => {
    const [a, b, c] = states(1, 1, 1);
    a!.observeLatency(100);
    b!.observeLatency(10);
    c!.observeLatency(50);
    // Both random draws 0: the first candidate against the second.
    expect(lowestLatency([a!, b!, c!], () => 0)).toBe(b);
    // The fast one is loaded: 10 ms × 21 in flight scores worse than 100 ms idle.
    b!.inFlight = 20;
    expect(lowestLatency([a!, b!, c!], () => 0)).toBe(a);
    // A deployment never measured scores 0 and is tried.
    const [fresh] = states(1);
    expect(lowestLatency([a!, fresh!], () => 0)).toBe(fresh);
  });

  it('latency is an exponentially weighted moving average', () => {
    const [a] = states(1);
    a!.observeLatency(100);
    a!.observeLatency(200);
    expect(a!.latencyMs).toBeCloseTo(130);
  });

  it('usage based picks the most rate-limit headroom left', () => {
    const [a, b, c] = states(1, 1, 1);
    a!.observeLevels({ requests: 20, tokens: undefined });
    b!.observeLevels({ requests: 90, tokens: undefined });
    c!.observeLevels({ requests: 50, tokens: undefined });
    expect(usageBased([a!, b!, c!], () => 0)).toBe(b);
  });
});
