import { LIMIT_CODES } from '../server/error-answer.js';
import type { OutcomeKind } from './dashboard-wire.js';

export type { OutcomeKind } from './dashboard-wire.js';

/** Every failure kind, in the order the page draws them. */
export const OUTCOME_KINDS: readonly OutcomeKind[] = ['rate_limited', 'timeout', 'provider', 'breaker', 'budget', 'other'];

/**
 * The kind of a failed call's outcome (its error code): refused by a rate limit (a provider's, or
 * one of Groundwork's own limits the service answers with a 429: `LIMIT_CODES`), timed out, the
 * provider failed (5xx, connection, malformed answer), refused by an open circuit, over a budget
 * or quota, or anything else (a bad request, a content filter…).
 */
export function outcomeKind(outcome: string): OutcomeKind {
  if (outcome.includes('circuit')) return 'breaker';
  if (LIMIT_CODES.has(outcome) || outcome.includes('rate_limit')) return 'rate_limited';
  if (outcome.includes('budget') || outcome.includes('quota')) return 'budget';
  if (outcome.includes('timeout') || outcome.includes('deadline')) return 'timeout';
  if (outcome.includes('server_error') || outcome.includes('connection') || outcome.includes('malformed') || outcome.includes('overloaded'))
    return 'provider';
  return 'other';
}
