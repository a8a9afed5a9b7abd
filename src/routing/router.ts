import { GroundworkError } from '../errors/groundwork-error.js';
import {
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  ProviderError,
  QuotaExhaustedError,
  RateLimitedError,
} from '../errors/provider-errors.js';
import { sleep, throwIfAborted } from '../internal/abort.js';
import type { Clock } from '../internal/clock.js';
import {
  type AttemptInfo,
  type AttemptRecord,
  type AttemptResult,
  type CallOutcome,
  type CallPlan,
  type CallTarget,
  concludeAttempts,
} from '../llm/call-pipeline.js';
import { type CallSignal, callAbortError, callAborted, callSignalOf } from '../llm/call-signal.js';
import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import { runWithTimeout } from '../resilience/attempt-timeout.js';
import { backoffDelay } from '../resilience/backoff.js';
import type { BreakerDecision } from '../resilience/breaker-store.js';
import { type CallContext, deadlineError } from '../resilience/call-context.js';
import type { BreakerVerdict, CircuitBreaker, CircuitState } from '../resilience/circuit-breaker.js';
import {
  CircuitOpenError,
  PipelineClosedError,
  RateLimitExceededError,
  RateLimitStoreUnavailableError,
  RetryAfterTooLongError,
} from '../resilience/errors.js';
import type { RateLimitStore, TakeResult } from '../resilience/rate-limit-store.js';
import type { RateLimitLevels } from '../resilience/rate-limiter.js';
import { codeOf, isPromise, verdictOf } from '../resilience/resilience-pipeline.js';
import type { RetryRules } from '../resilience/retry-decision.js';
import { DeploymentState } from './deployment-state.js';
import { NoDeploymentAvailableError } from './no-deployment-error.js';
import type { DeploymentConfig, ModelGroupConfig, RoutesConfig } from './routes-config.js';
import { STRATEGIES } from './routing-strategy.js';

/**
 * How long a deployment that answered 429 stays out of routing at least, ms: without `Retry-After`,
 * or when it asks for less (0 included).
 */
const MIN_THROTTLE_MS = 1000;
/** Why a deployment whose limits could not be read is skipped. */
const STORE_UNAVAILABLE = 'rate-limit store unreachable';
/** How often a call waiting only for a concurrency slot looks again, at most, ms. */
const BUSY_RECHECK_MS = 50;

/** What a {@link Router} is built from (see `createRouter`). */
export interface RouterParts {
  routes: RoutesConfig;
  /** Circuits per deployment (keys `deployment:<group>/<name>`), in the shared breaker store when there is one. */
  breaker: CircuitBreaker;
  /** The rate-limit store of each deployment with `rpm` or `tpm`, by {@link deploymentKey}. */
  limits: ReadonlyMap<string, RateLimitStore>;
  retry: RetryRules;
  timeoutMs: number;
  deadlineMs: number;
  /** Longest a call waits, in all, for a deployment of a group to free. */
  maxWaitMs: number;
  clock: Clock;
  logger: Logger;
  metrics: GroundworkMetrics | undefined;
  /** The strategies' source of randomness, in [0, 1). @default Math.random */
  random: () => number;
}

/** The key of a deployment in the breaker and rate-limit stores. */
export function deploymentKey(deployment: Pick<DeploymentConfig, 'group' | 'name'>): string {
  return `deployment:${deployment.group}/${deployment.name}`;
}

/** The targets of a group, one per deployment, in the order of the routes file. */
export function groupTargets(group: ModelGroupConfig): CallTarget[] {
  return group.deployments.map((deployment) => ({
    provider: deployment.provider,
    model: deployment.model,
    group: group.name,
    deployment: deployment.name,
  }));
}

/** Each routes file's call targets by group name, built once per (deeply frozen) groups object. */
const callTargetsByGroups = new WeakMap<object, Map<string, readonly CallTarget[]>>();

/**
 * The targets of a call for `name` when it names a model group of `groups`: its deployments, then
 * those of its fallback groups (each once, in order); undefined when `name` is no group.
 *
 * A validated routes file is frozen through and through; for it the targets are built once per
 * group, frozen, and handed out as a fresh array of the same targets. Groups that are not (made by
 * hand, or a group, a deployment or a list of them left open) may still change: their targets are
 * built afresh on every call.
 */
export function groupCallTargets(groups: Readonly<Record<string, ModelGroupConfig>>, name: string): CallTarget[] | undefined {
  if (!Object.isFrozen(groups)) {
    const group = Object.hasOwn(groups, name) ? groups[name] : undefined;
    return group === undefined ? undefined : reachedGroups(groups, group).flatMap(groupTargets);
  }
  let built = callTargetsByGroups.get(groups);
  if (built === undefined) {
    built = new Map();
    callTargetsByGroups.set(groups, built);
  }
  let targets = built.get(name);
  if (targets === undefined) {
    const group = Object.hasOwn(groups, name) ? groups[name] : undefined;
    if (group === undefined) return undefined;
    const reached = reachedGroups(groups, group);
    const fresh = reached.flatMap(groupTargets);
    if (!reached.every(isFrozenGroup)) return fresh;
    for (const target of fresh) Object.freeze(target);
    targets = Object.freeze(fresh);
    built.set(name, targets);
  }
  return targets.slice();
}

/** `group`, then its fallback groups that exist, each once, in order. */
function reachedGroups(groups: Readonly<Record<string, ModelGroupConfig>>, group: ModelGroupConfig): ModelGroupConfig[] {
  const reached = [group];
  const seen = new Set([group.name]);
  for (const fallbackName of group.fallbacks) {
    const fallback = groups[fallbackName];
    if (fallback === undefined || seen.has(fallbackName)) continue;
    seen.add(fallbackName);
    reached.push(fallback);
  }
  return reached;
}

/** Whether nothing a group's targets are built from can change: the group, its lists and its deployments. */
function isFrozenGroup(group: ModelGroupConfig): boolean {
  return (
    Object.isFrozen(group) &&
    Object.isFrozen(group.fallbacks) &&
    Object.isFrozen(group.deployments) &&
    group.deployments.every((deployment) => Object.isFrozen(deployment))
  );
}

/** An error that ends the whole call (not retryable, or the caller gave up). */
class Final {
  constructor(readonly error: unknown) {}
}

/** One call's state and deadline. */
class Run implements CallContext {
  readonly records: AttemptRecord[] = [];
  /** The call's cancellation when its plan carries one: attempts subscribe to it rather than to {@link signal}. */
  readonly cancellation: CallSignal | undefined;
  readonly #plan: CallPlan;
  constructor(
    plan: CallPlan,
    readonly startedAt: number,
    readonly deadlineMs: number,
    readonly deadlineAt: number,
  ) {
    this.#plan = plan;
    this.cancellation = callSignalOf(plan);
  }

  /** The caller's signal; read only to wait (a call's own signal is made on first read). */
  get signal(): AbortSignal | undefined {
    return this.#plan.signal;
  }
}

/** Either the breaker's decision to send, or until when a deployment cannot take the call, and why. */
type Admission = { decision: BreakerDecision } | { until: number; reason: string; error: unknown };

interface Entry {
  target: CallTarget;
  state: DeploymentState;
}

/**
 * Routes calls over model groups: for each attempt the group's strategy picks one of the
 * deployments that can take it now, skipping those whose circuit is open, whose rate limits are
 * spent, that answered 429 (until their `Retry-After`, and at least 1 s), or that are at their
 * concurrency limit. A 429 or a failure moves the call to a sibling at once; only when no sibling
 * can take it does the call wait, for the first to free, within the deadline (and only when no
 * fallback group follows). A call sends each deployment at most `maxAttempts` requests, 429s
 * included; a spent quota, a refused key or an unknown model leaves the deployment out of the call
 * at once. When a group gives up, its fallback groups follow, in the plan's order. The deadline
 * spans every group and attempt.
 */
export class Router {
  readonly #parts: RouterParts;
  readonly #states = new Map<string, DeploymentState>();
  /** Calls waiting for a slot, by the group they wait on: a release wakes only its own group's. */
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #closing = new AbortController();

  constructor(parts: RouterParts) {
    this.#parts = parts;
    for (const group of Object.values(parts.routes.groups))
      for (const deployment of group.deployments) this.#states.set(deploymentKey(deployment), new DeploymentState(deployment));
  }

  /** This process's view of every deployment (in flight, latency, headroom), for reports and tests. */
  states(): DeploymentState[] {
    return [...this.#states.values()];
  }

  /**
   * Every deployment circuit this process has used, each under its deployment's provider and
   * `<group>/<deployment>` as its model, for the dashboard's live view (health checks read the
   * providers' circuits only).
   */
  breakerStates(): Promise<CircuitState[]> {
    return this.#parts.breaker.snapshot();
  }

  /**
   * The rate-limit buckets of the deployment {@link breakerStates} lists as `provider` and
   * `<group>/<deployment>`, from its own store (reads only): undefined when it has no `rpm` or
   * `tpm`, null when no deployment goes by that name (the provider-wide buckets are the
   * resilience pipeline's). A deployment limited by tokens only reports its request bucket as the
   * store keeps it, too large to matter.
   */
  async rateLimitLevels(provider: string, model: string): Promise<RateLimitLevels | undefined | null> {
    const key = `deployment:${model}`;
    const state = this.#states.get(key);
    if (state === undefined || state.config.provider !== provider) return null;
    const store = this.#parts.limits.get(key);
    if (store?.peek === undefined) return undefined;
    const levels = await store.peek(key, this.#parts.clock.now());
    const { rpm, tpm } = state.config;
    const { windowMs } = this.#parts.routes;
    return {
      requests: { level: levels.requests, capacity: rpm ?? Number.MAX_SAFE_INTEGER, windowMs },
      tokens: tpm === undefined || levels.tokens === undefined ? undefined : { level: levels.tokens, capacity: tpm, windowMs },
      waiting: 0,
    };
  }

  /** Runs a plan whose targets are the deployments of one or more groups (see {@link groupTargets}). */
  async execute<T>(plan: CallPlan, attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>): Promise<CallOutcome<T>> {
    const { clock } = this.#parts;
    const startedAt = clock.now();
    const deadlineAt = Math.min(startedAt + this.#parts.deadlineMs, plan.deadlineAt ?? Number.POSITIVE_INFINITY);
    // A tool loop's later turn keeps the call's deadline, which began `deadlineMs` before its
    // `deadlineAt`: an error then names the whole deadline and the time since the call began.
    const callStartedAt = plan.deadlineAt === undefined ? startedAt : Math.min(startedAt, plan.deadlineAt - this.#parts.deadlineMs);
    const run = new Run(plan, callStartedAt, deadlineAt - callStartedAt, deadlineAt);
    if (callAborted(run)) throw callAbortError(run);
    if (this.#closing.signal.aborted) throw new PipelineClosedError();
    let lastError: unknown;
    const groups = segments(plan.targets);
    for (const [index, segment] of groups.entries()) {
      const group = segment[0]?.group === undefined ? undefined : this.#parts.routes.groups[segment[0].group];
      if (group === undefined)
        throw new TypeError(`The router was given targets outside its groups: ${segment[0]?.provider}/${segment[0]?.model}`);
      try {
        const { value, target } = await this.#routeGroup(group, segment, plan.estimatedTokens, run, attempt, index === groups.length - 1);
        return { value, target, attempts: run.records };
      } catch (error) {
        if (error instanceof Final) throw this.#withAttempts(error.error, run);
        lastError = error;
        if (clock.now() >= run.deadlineAt) break;
      }
    }
    throw this.#withAttempts(lastError, run);
  }

  /**
   * Refuses calls still waiting for a deployment, and every call made after, with
   * {@link PipelineClosedError}; calls already sent run to their end. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closing.signal.aborted) this.#closing.abort(new PipelineClosedError());
  }

  async #routeGroup<T>(
    group: ModelGroupConfig,
    targets: readonly CallTarget[],
    tokens: number,
    run: Run,
    attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>,
    last: boolean,
  ): Promise<{ value: T; target: CallTarget }> {
    const { clock, retry } = this.#parts;
    const strategy = STRATEGIES[group.strategy];
    const pool: Entry[] = targets.flatMap((target) => {
      const state = this.#states.get(`deployment:${group.name}/${target.deployment}`);
      return state === undefined ? [] : [{ target, state }];
    });
    const failures = new Map<DeploymentState, number>();
    // Deployments this call leaves alone for now, until when and why: backing off after a failure, or
    // refused at admission (circuit open, limits spent, store unreachable). Looked at again only then,
    // so that a call waiting for a busy sibling neither asks the stores nor adds a skipped attempt on every look.
    const avoidUntil = new Map<DeploymentState, { until: number; reason: string }>();
    const excluded = new Set<DeploymentState>();
    let lastError: unknown;
    /** The error of this group's last attempt that was sent and failed (a too long Retry-After: its refusal). */
    let sentError: unknown;
    /** The deployments this call sent to and that failed. */
    const failedSends = new Set<DeploymentState>();
    let waitedMs = 0;
    for (;;) {
      if (callAborted(run)) throw new Final(callAbortError(run));
      // Closed between two attempts (after a failure or a refusal): nothing more is sent.
      if (this.#closing.signal.aborted) throw new Final(new PipelineClosedError());
      const now = clock.now();
      if (now >= run.deadlineAt) throw deadlineError(run, now, `passed while routing over "${group.name}"`, lastError);
      const blocked: number[] = [];
      const reasons = new Set<string>();
      let busy = false;
      const candidates: Entry[] = [];
      for (const entry of pool) {
        const { state } = entry;
        if (excluded.has(state)) continue;
        const avoided = avoidUntil.get(state);
        const avoid = Math.max(state.throttledUntil, avoided?.until ?? 0);
        if (avoid > now) {
          blocked.push(avoid);
          reasons.add(avoided === undefined || state.throttledUntil >= avoided.until ? 'throttled by the provider (429)' : avoided.reason);
        } else if (atLimit(state)) {
          busy = true;
          reasons.add('at their concurrency limit');
        } else candidates.push(entry);
      }
      if (candidates.length === 0 && blocked.length === 0 && !busy)
        throw lastError ?? new Error(`Model group "${group.name}" has no deployment left to try`);
      let admitted: { entry: Entry; decision: BreakerDecision } | undefined;
      while (candidates.length > 0 && admitted === undefined) {
        const picked = strategy(
          candidates.map((candidate) => candidate.state),
          this.#parts.random,
        );
        const index = candidates.findIndex((candidate) => candidate.state === picked);
        const [entry] = candidates.splice(index, 1);
        if (entry === undefined) break;
        // The slot is taken before the admission's awaits, so that calls arriving together cannot all pass maxConcurrent.
        if (atLimit(entry.state)) {
          busy = true;
          reasons.add('at their concurrency limit');
          continue;
        }
        entry.state.inFlight++;
        let admission: Admission;
        try {
          admission = await this.#admit(entry, tokens, run);
        } catch (error) {
          this.#release(entry.state);
          throw error;
        }
        if ('decision' in admission) admitted = { entry, decision: admission.decision };
        else {
          this.#release(entry.state);
          avoidUntil.set(entry.state, { until: admission.until, reason: admission.reason });
          blocked.push(admission.until);
          reasons.add(admission.reason);
          lastError = admission.error;
        }
      }
      if (admitted === undefined) {
        const wakeAt = Math.min(...blocked, busy ? now + BUSY_RECHECK_MS : Number.POSITIVE_INFINITY);
        const waitMs = Math.max(1, wakeAt - now);
        const why = [...reasons];
        // Only the store of the limits stands in the way: refused at once, as outside groups, with its error;
        // or, when a sibling was sent and failed, with that sibling's: the call was sent, and that is its answer.
        if (!busy && why.length === 1 && why[0] === STORE_UNAVAILABLE && lastError instanceof RateLimitStoreUnavailableError) {
          throw sentError ?? lastError;
        }
        if (now + waitMs >= run.deadlineAt) {
          throw deadlineError(run, now, `would pass before a deployment of "${group.name}" frees (${why.join('; ')})`, lastError, waitMs);
        }
        // A fallback group may answer now: it is not kept waiting for this one to free.
        if (!last || waitedMs + waitMs > this.#parts.maxWaitMs) {
          const refusal = new NoDeploymentAvailableError({ group: group.name, retryAfterMs: waitMs, reasons: why, cause: lastError });
          // Every deployment was sent and failed, and only Groundwork's own refusals (a circuit its failure
          // opened, limits spent) keep it from being tried again: the provider's answer is the call's, as
          // when the attempts run out. A deployment throttled by a 429 frees at its Retry-After: still no deployment available.
          const allFailed =
            !busy && pool.every(({ state }) => failedSends.has(state) && (excluded.has(state) || state.throttledUntil <= now));
          throw allFailed ? notRetried(sentError, refusal) : refusal;
        }
        await this.#pause(waitMs, run.signal, busy ? group.name : undefined);
        waitedMs += clock.now() - now;
        continue;
      }
      const { entry, decision } = admitted;
      if (this.#closing.signal.aborted) {
        // Closed while the stores answered the admission: the call is not sent. The slot, the token
        // reservation and a test request go back (the request permit stays spent).
        this.#release(entry.state);
        this.#reconcile(entry.state, tokens, 0);
        if (decision.probe) {
          const breakerTarget = { provider: entry.target.provider, model: `${entry.target.group}/${entry.target.deployment}` };
          void this.#settle(breakerTarget, deploymentKey(entry.state.config), decision, 'abandoned');
        }
        throw new Final(new PipelineClosedError());
      }
      const number = (failures.get(entry.state) ?? 0) + 1;
      try {
        const value = await this.#send(entry, decision, number, tokens, run, attempt);
        return { value, target: entry.target };
      } catch (error) {
        const after = clock.now();
        if (callAborted(run)) throw new Final(error);
        lastError = error;
        sentError = error;
        failedSends.add(entry.state);
        if (error instanceof RateLimitedError) {
          // Throttled: out of routing until the provider says (never less than MIN_THROTTLE_MS, or a
          // Retry-After of 0 would have it picked again at once), and the call moves on at once. A 429
          // is an attempt like any other: after maxAttempts this deployment is out of the call.
          // Throttled for as long as it asked, even past LLM_RETRY_AFTER_MAX_MS: sent earlier, it would
          // only refuse again. Beyond that limit this call does not wait for it at all.
          const waitMs = Math.max(error.retryAfterMs ?? MIN_THROTTLE_MS, MIN_THROTTLE_MS);
          entry.state.throttledUntil = Math.max(entry.state.throttledUntil, after + waitMs);
          failures.set(entry.state, number);
          const tooLong = retryAfterTooLong(error, entry.target, after, retry);
          if (tooLong !== undefined) lastError = sentError = tooLong;
          if (tooLong !== undefined || number >= retry.maxAttempts) excluded.add(entry.state);
          continue;
        }
        if (
          error instanceof QuotaExhaustedError ||
          error instanceof AuthenticationError ||
          error instanceof PermissionDeniedError ||
          error instanceof NotFoundError
        ) {
          // This deployment's account, key or model, not the request: a sibling may answer. Waiting
          // will not help (a spent quota stays spent until someone adds credit), so when every
          // deployment is out the call fails with this error, not as retryable "no deployment available".
          excluded.add(entry.state);
          continue;
        }
        if (!GroundworkError.isInstance(error) || !error.retryable) throw new Final(error);
        failures.set(entry.state, number);
        const tooLong = retryAfterTooLong(error, entry.target, after, retry);
        if (tooLong !== undefined) {
          lastError = sentError = tooLong;
          excluded.add(entry.state);
        } else if (number >= retry.maxAttempts) excluded.add(entry.state);
        else {
          const retryAfterMs = ProviderError.isInstance(error) ? error.retryAfterMs : undefined;
          // A Retry-After shorter than the shortest backoff (0 included) is raised to it, as outside groups.
          const waitMs =
            retryAfterMs === undefined ? backoffDelay(number, retry.minMs, retry.maxMs, retry.random) : Math.max(retryAfterMs, retry.minMs);
          const until = after + waitMs;
          avoidUntil.set(entry.state, { until, reason: 'backing off after a failure' });
        }
      }
    }
  }

  /** Breaker, then rate limits: either the decision to send, or until when this deployment cannot take the call. */
  async #admit(entry: Entry, tokens: number, run: Run): Promise<Admission> {
    const { breaker, clock, limits } = this.#parts;
    const key = deploymentKey(entry.state.config);
    const breakerTarget = { provider: entry.target.provider, model: `${entry.target.group}/${entry.target.deployment}` };
    let decision: BreakerDecision;
    try {
      decision = await breaker.acquire(breakerTarget, key);
    } catch (error) {
      this.#record(run, entry.target, 1, clock.now(), error, false);
      if (error instanceof CircuitOpenError) return { until: error.retryAt, reason: 'circuit open', error };
      throw error;
    }
    const store = limits.get(key);
    if (store === undefined) return { decision };
    const now = clock.now();
    let taken: TakeResult;
    try {
      taken = await store.take(key, tokens, now);
    } catch (error) {
      // The limits could not be read (the shared store down, with LLM_RATE_LIMIT_ON_STORE_FAILURE=refuse):
      // the breaker's probe slot goes back, or the circuit would wait for a probe that never ran.
      if (decision.probe) void this.#settle(breakerTarget, key, decision, 'abandoned');
      if (!(error instanceof RateLimitStoreUnavailableError)) throw error;
      // This deployment cannot be sent to until the store is tried again; a sibling without limits still can.
      this.#record(run, entry.target, 1, now, error, false);
      this.#refused(entry.target, 'store_unavailable');
      // Counted from the refusal, not the take: a store that hung refuses only once its bound ran out.
      return { until: clock.now() + Math.max(1, error.retryAfterMs), reason: STORE_UNAVAILABLE, error };
    }
    entry.state.observeLevels(taken.levels);
    if (taken.granted) return { decision };
    if (decision.probe) void this.#settle(breakerTarget, key, decision, 'abandoned');
    const { rpm, tpm } = entry.state.config;
    const error = new RateLimitExceededError({
      provider: entry.target.provider,
      model: `${entry.target.group}/${entry.target.deployment}`,
      limit: taken.limit,
      limitPerMinute: Math.round((((taken.limit === 'tokens' ? tpm : rpm) ?? 0) * 60_000) / this.#parts.routes.windowMs),
      waitedMs: 0,
      retryAfterMs: Math.max(1, taken.waitMs),
    });
    this.#record(run, entry.target, 1, now, error, false);
    this.#refused(entry.target, 'rate_limit');
    return { until: now + Math.max(1, taken.waitMs), reason: 'rate limits spent', error };
  }

  /** One attempt on an admitted deployment, with its timeout; keeps its slot until a stream's usage is known. */
  async #send<T>(
    entry: Entry,
    decision: BreakerDecision,
    number: number,
    tokens: number,
    run: Run,
    attempt: (info: AttemptInfo) => Promise<AttemptResult<T>>,
  ): Promise<T> {
    const { clock, timeoutMs } = this.#parts;
    const { state, target } = entry;
    const key = deploymentKey(state.config);
    const breakerTarget = { provider: target.provider, model: `${target.group}/${target.deployment}` };
    const began = clock.now();
    let verdict: BreakerVerdict = 'abandoned';
    // Counted in flight from the send until its slot is released (a stream: until its usage is known).
    this.#parts.metrics?.llmInFlight.inc({ provider: state.config.provider });
    try {
      const result = await runWithTimeout(attempt, target, number, run, timeoutMs, clock);
      verdict = 'success';
      state.observeLatency(clock.now() - began);
      this.#afterUsage(state, tokens, result.usage);
      this.#record(run, target, number, began, undefined, true);
      return result.value;
    } catch (error) {
      this.#landed(state);
      verdict = verdictOf(error);
      if (verdict === 'failure') state.observeLatency(clock.now() - began);
      this.#reconcile(state, tokens, 0);
      this.#record(run, target, number, began, error, true);
      throw error;
    } finally {
      if (verdict !== 'success' || this.#parts.breaker.mustRecordSuccess(key, decision)) {
        void this.#settle(breakerTarget, key, decision, verdict);
      }
    }
  }

  #afterUsage(state: DeploymentState, tokens: number, usage: AttemptResult<unknown>['usage']): void {
    if (!isPromise(usage)) {
      this.#landed(state);
      if (usage !== undefined) this.#reconcile(state, tokens, usage.totalTokens);
      return;
    }
    usage.then(
      (known) => {
        this.#landed(state);
        if (known !== undefined) this.#reconcile(state, tokens, known.totalTokens);
      },
      () => this.#landed(state),
    );
  }

  /** Releases the slot of an attempt that was sent, and counts it out of the calls in flight. */
  #landed(state: DeploymentState): void {
    this.#parts.metrics?.llmInFlight.dec({ provider: state.config.provider });
    this.#release(state);
  }

  /** Counts a deployment refused by its own limits, under its model's label as the resilience pipeline's refusals are. */
  #refused(target: CallTarget, reason: 'rate_limit' | 'store_unavailable'): void {
    const metrics = this.#parts.metrics;
    metrics?.llmRefusals.inc({ provider: target.provider, model: metrics.models.label(target.model), reason });
  }

  #release(state: DeploymentState): void {
    state.inFlight--;
    const waiting = this.#waiting.get(state.config.group);
    if (waiting !== undefined) for (const wake of [...waiting]) wake();
  }

  #reconcile(state: DeploymentState, reserved: number, used: number): void {
    if (state.config.tpm === undefined || reserved === used) return;
    const key = deploymentKey(state.config);
    this.#parts.limits
      .get(key)
      ?.adjustTokens(key, reserved - used, this.#parts.clock.now())
      .catch((error: unknown) => {
        this.#parts.logger.warn({ err: error, deployment: key }, 'Could not reconcile the token reservation');
      });
  }

  async #settle(target: CallTarget, key: string, decision: BreakerDecision, verdict: BreakerVerdict): Promise<void> {
    await this.#parts.breaker.settle(target, key, decision, verdict).catch((error: unknown) => {
      this.#parts.logger.warn({ err: error, deployment: key }, 'Could not record the circuit breaker outcome');
    });
  }

  /**
   * Waits `ms`, or less when a deployment of `busyGroup` (one at its concurrency limit) frees a slot
   * first; throws at once when the call is aborted or the router closed, before or during the wait.
   */
  async #pause(ms: number, signal: AbortSignal | undefined, busyGroup: string | undefined): Promise<void> {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    const onAbort = (): void => controller.abort(signal?.reason);
    let waiting: Set<() => void> | undefined;
    if (busyGroup !== undefined) {
      waiting = this.#waiting.get(busyGroup);
      if (waiting === undefined) {
        waiting = new Set();
        this.#waiting.set(busyGroup, waiting);
      }
      waiting.add(stop);
    }
    signal?.addEventListener('abort', onAbort);
    this.#closing.signal.addEventListener('abort', stop);
    try {
      // The call may have been aborted, or the router closed, before these listeners were added (while
      // a shared store answered the admission): they will not fire, so there is no wait at all.
      if (!signal?.aborted && !this.#closing.signal.aborted) await sleep(ms, controller.signal, this.#parts.clock).catch(() => undefined);
    } finally {
      if (waiting !== undefined) {
        waiting.delete(stop);
        if (waiting.size === 0 && busyGroup !== undefined) this.#waiting.delete(busyGroup);
      }
      signal?.removeEventListener('abort', onAbort);
      this.#closing.signal.removeEventListener('abort', stop);
    }
    throwIfAborted(signal);
    // Each call its own error: the call's attempts are attached to it.
    if (this.#closing.signal.aborted) throw new Final(new PipelineClosedError());
  }

  #record(run: Run, target: CallTarget, number: number, began: number, error: unknown, sent: boolean): void {
    const record: AttemptRecord = {
      provider: target.provider,
      model: target.model,
      attempt: number,
      outcome: error === undefined ? 'success' : sent ? 'error' : 'skipped',
      latencyMs: Math.max(0, this.#parts.clock.now() - began),
    };
    if (target.deployment !== undefined) record.deployment = target.deployment;
    if (error !== undefined) record.errorCode = codeOf(error);
    run.records.push(record);
    if (sent) {
      this.#parts.metrics?.llmDeploymentAttempts.inc({
        group: target.group ?? '',
        deployment: target.deployment ?? '',
        provider: target.provider,
        model: target.model,
        outcome: error === undefined ? 'success' : codeOf(error),
      });
    }
  }

  #withAttempts(error: unknown, run: Run): unknown {
    // An abort's reason is the caller's own: its message is left as it is.
    return concludeAttempts(error, run.records, GroundworkError.isInstance(error) && !callAborted(run));
  }
}

/**
 * The refusal to wait when a deployment asked for a longer pause than `LLM_RETRY_AFTER_MAX_MS`, as
 * outside groups: the call leaves that deployment out, and fails with this when no sibling answers.
 */
function retryAfterTooLong(error: unknown, target: CallTarget, now: number, retry: RetryRules): RetryAfterTooLongError | undefined {
  const retryAfterMs = ProviderError.isInstance(error) ? error.retryAfterMs : undefined;
  if (retryAfterMs === undefined || retryAfterMs <= retry.retryAfterMaxMs) return undefined;
  return new RetryAfterTooLongError({
    provider: target.provider,
    model: `${target.group}/${target.deployment}`,
    retryAfterMs,
    maxRetryAfterMs: retry.retryAfterMaxMs,
    now,
    cause: error,
  });
}

/**
 * The error of a sent attempt, ending a call that Groundwork's own `refusal` kept from trying again,
 * as outside groups: the refusal named in its message, and its wait (when the first deployment frees)
 * as the Retry-After of a provider that named none.
 */
function notRetried(sent: unknown, refusal: NoDeploymentAvailableError): unknown {
  if (!(sent instanceof Error)) return refusal;
  sent.message = `${sent.message.replace(/\.?$/, '.')} Not retried: ${refusal.message}`;
  if ((sent as { retryAfterMs?: unknown }).retryAfterMs === undefined)
    (sent as { retryAfterMs?: number }).retryAfterMs = refusal.retryAfterMs;
  return sent;
}

/** Whether a deployment has as many calls in flight from this process as its `maxConcurrent`. */
function atLimit(state: DeploymentState): boolean {
  return state.config.maxConcurrent !== undefined && state.inFlight >= state.config.maxConcurrent;
}

/** Consecutive targets of the same group, in order. */
function segments(targets: readonly CallTarget[]): CallTarget[][] {
  const result: CallTarget[][] = [];
  for (const target of targets) {
    const last = result[result.length - 1];
    if (last !== undefined && last[0]?.group === target.group) last.push(target);
    else result.push([target]);
  }
  return result;
}
