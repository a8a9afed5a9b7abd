import type { AttemptInfo, AttemptResult, CallOutcome, CallPipeline, CallPlan } from '../llm/call-pipeline.js';
import type { Router } from './router.js';

/**
 * A call pipeline that sends plans aimed at model groups through the {@link Router} and every
 * other plan through `inner` (the resilience pipeline), unchanged.
 */
export class RoutingPipeline implements CallPipeline {
  readonly #inner: CallPipeline;
  readonly router: Router;

  constructor(inner: CallPipeline, router: Router) {
    this.#inner = inner;
    this.router = router;
  }

  execute<T>(plan: CallPlan, attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>): Promise<CallOutcome<T>> {
    return plan.targets[0]?.group === undefined ? this.#inner.execute(plan, attempt) : this.router.execute(plan, attempt);
  }

  async close(): Promise<void> {
    await this.router.close();
    await this.#inner.close?.();
  }
}
