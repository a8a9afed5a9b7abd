import type { AppConfig } from '../config/app-config.js';
import type { Clock } from '../internal/clock.js';
import type { Logger } from '../observability/logger.js';
import type { InFlightCalls } from './in-flight-calls.js';
import { LlmClientClosedError } from './llm-errors.js';

/** How long a call that was cut at close has to record its end before the ledger closes, in ms. */
const CUT_GRACE_MS = 2000;

/**
 * Before a client closes its ledger: lets the calls in flight finish (each is bounded by the call
 * deadline, LLM_DEADLINE_MS), cuts the rest, and waits for each to be recorded, so that every call
 * that reached a provider has its row. A call that still does not end is logged, never forgotten.
 */
export async function drainCalls(calls: InFlightCalls, config: AppConfig, clock: Clock, logger: Logger): Promise<void> {
  if (calls.count === 0) return;
  const left = await calls.drain(config.resilience.deadlineMs, CUT_GRACE_MS, new LlmClientClosedError(), clock);
  if (left > 0) {
    logger.warn(
      { calls: left },
      `closing with ${left} LLM call${left === 1 ? '' : 's'} still running (a stream nobody reads?); their usage will not be recorded`,
    );
  }
}
