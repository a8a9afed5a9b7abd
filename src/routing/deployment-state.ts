import type { DeploymentConfig } from './routes-config.js';

/** Weight of the newest sample in the latency average. */
const EWMA_ALPHA = 0.3;

/**
 * What this process knows of one deployment between calls: calls in flight, recent latency
 * (an exponentially weighted moving average), when a 429 lets it be tried again, and the rate-limit
 * headroom the shared buckets reported on the last take.
 */
export class DeploymentState {
  /** Attempts sent and not yet finished (a stream: until it ends). */
  inFlight = 0;
  /** Recent latency of an answer (a stream: to its first chunk), ms; undefined until the first. */
  latencyMs: number | undefined;
  /** Until when a 429 keeps this deployment out of routing, epoch ms. */
  throttledUntil = 0;
  /** Fraction of the request and token buckets left at the last take (1: full, or not limited). */
  headroom = 1;

  constructor(readonly config: DeploymentConfig) {}

  /** Adds a latency sample to the average. */
  observeLatency(ms: number): void {
    this.latencyMs = this.latencyMs === undefined ? ms : this.latencyMs + EWMA_ALPHA * (ms - this.latencyMs);
  }

  /** Records the buckets' levels after a take. */
  observeLevels(levels: { requests: number; tokens: number | undefined } | undefined): void {
    if (levels === undefined) return;
    const { rpm, tpm } = this.config;
    const requests = rpm === undefined ? 1 : levels.requests / rpm;
    const tokens = tpm === undefined || levels.tokens === undefined ? 1 : levels.tokens / tpm;
    this.headroom = Math.max(0, Math.min(requests, tokens));
  }
}
