import { runBudget, runOverload, startTenantFleet } from '../test/tenant-fleet-scenarios.js';
import type { BenchResult } from './harness.js';

/*
 * `npm run bench -- budget`: four real `groundwork serve` processes sharing one Redis and one
 * PostgreSQL database, in front of a fake provider whose answers vary in length.
 *   - budget: 400 concurrent calls with known prices against a key whose total budget is $1.00;
 *     settled spend (from the ledger every process writes), overspend, and the share of the
 *     budget answered before the first `insufficient_quota`;
 *   - limits: 3× overload of a key's requests per minute, then of another key's tokens per minute;
 *     admitted against what the limit allows over the run (full bucket plus its refill).
 * The baseline is the budget or limit itself: each ratio is measured ÷ allowed.
 */
export default async function budgetBench(): Promise<BenchResult> {
  const replicas = 4;
  const budgetFleet = await startTenantFleet(replicas);
  let budget: Awaited<ReturnType<typeof runBudget>>;
  try {
    budget = await runBudget(budgetFleet, { calls: 400, budgetUsd: 1 });
  } finally {
    await budgetFleet.close();
  }
  const limitsFleet = await startTenantFleet(replicas);
  let requests: Awaited<ReturnType<typeof runOverload>>;
  let tokens: Awaited<ReturnType<typeof runOverload>>;
  try {
    requests = await runOverload(limitsFleet, { kind: 'requests', limit: 120, workers: 12, maxTokens: 5 });
    tokens = await runOverload(limitsFleet, { kind: 'tokens', limit: 3000, workers: 8, maxTokens: 20 });
  } finally {
    await limitsFleet.close();
  }
  return {
    name: 'budget',
    description:
      'Four serve processes on one Redis and one PostgreSQL: 400 concurrent calls against a $1.00 budget (answers of random length), and 3× overload of a key’s requests and tokens per minute.',
    rows: [
      {
        subject: 'budget $1.00, 400 concurrent calls',
        admitted: budget.admitted,
        refused_insufficient_quota: budget.refusedForBudget,
        refused_after_waiting: budget.refusedAfterWaiting,
        other_failures: budget.otherFailures,
        other_failure_codes: budget.otherCodes,
        settled_usd: Number(budget.settledUsd.toFixed(6)),
        overspend_usd: Number(budget.overspendUsd.toFixed(6)),
        used_before_first_refusal: Number(budget.usedBeforeFirstRefusal.toFixed(4)),
      },
      {
        subject: `requests per minute ${requests.limit}, 3× overload`,
        offered: requests.offered,
        admitted: requests.admitted,
        allowed: requests.allowed,
        elapsed_ms: requests.elapsedMs,
      },
      {
        subject: `tokens per minute ${tokens.limit}, 3× overload`,
        offered_calls: tokens.offered,
        admitted_tokens: tokens.admitted,
        allowed_tokens: tokens.allowed,
        elapsed_ms: tokens.elapsedMs,
      },
    ],
    ratios: {
      overspend_usd: Number(budget.overspendUsd.toFixed(6)),
      ratio_settled_vs_budget: Number(budget.settledUsd.toFixed(6)),
      ratio_used_before_first_refusal: Number(budget.usedBeforeFirstRefusal.toFixed(4)),
      ratio_requests_admitted_vs_allowed: Number((requests.admitted / requests.allowed).toFixed(4)),
      ratio_tokens_admitted_vs_allowed: Number((tokens.admitted / tokens.allowed).toFixed(4)),
    },
  };
}
