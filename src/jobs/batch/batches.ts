import type { AppConfig } from '../../config/app-config.js';
import { sleep } from '../../internal/abort.js';
import type { Clock } from '../../internal/clock.js';
import { PriceBook } from '../../llm/pricing.js';
import type { PromptContext } from '../../llm/prompt.js';
import type { ChatRequest } from '../../llm/types.js';
import type { UsageAttribution, UsageRecord } from '../../llm/usage-record.js';
import type { Logger } from '../../observability/logger.js';
import { scrubSecrets } from '../../observability/redact.js';
import type { BatchReservation, BatchToReserve, TenantBatch } from '../../tenants/batch-budgets.js';
import { BATCH_LEASE_MARGIN_MS, BATCH_WINDOW_MS, MAX_BATCH_POLL_INTERVAL_MS } from '../../tenants/batch-lease.js';
import type { AnySession, ClaimedJob, JobEngine, NewJob } from '../job-engine.js';
import { JobHandlerMissingError, JobInputError } from '../job-errors.js';
import { jobId } from '../job-id.js';
import type { AnyPrompt } from '../job-types.js';
import { BatchNotFoundError, BatchProviderError, BatchUnsupportedError } from './batch-errors.js';
import { batchOutcome } from './batch-items.js';
import type { BatchProvider, BatchProviderName } from './batch-provider.js';
import { BATCH_POLL_JOB, BATCH_SUBMIT_JOB, type BatchSummary, none, pollId, readBatch } from './batch-reader.js';
import { batchRequestOf, customIdOf, MAX_BATCH_ITEMS } from './batch-requests.js';
import {
  BATCH_END_STATES,
  type BatchSnapshot,
  type BatchSpec,
  type BatchStepPayload,
  type BatchStepResult,
  type EnqueueBatchOptions,
} from './batch-types.js';

export { BATCH_POLL_JOB, BATCH_SUBMIT_JOB } from './batch-reader.js';

const DEFAULT_POLL_INTERVAL_MS = 60_000;
const ADOPTED = 'batch: the provider already had this batch, submitted by an earlier run whose answer was lost; adopting it';
/** A step's job is retried this often (waits doubling from up to 2 s) before the batch is reported failed. */
const STEP_RETRIES = 10;
/** Batch steps and their results are kept 30 days. */
const STEP_TTL_MS = 30 * 86_400_000;
const BATCH_PROVIDERS: readonly string[] = ['openai', 'azure', 'anthropic'];

/**
 * What batches need of the tenants: to reserve a batch's worst case on its budgets, and to settle
 * it once; in the caller's transaction (`session`) when the budgets can take part in it.
 */
export interface BatchTenancy {
  /** Whether `reserve` and `settle` can run in the caller's transaction: budgets in the database, not in Redis. */
  readonly joinsTransactions: boolean;
  reserve(tenant: string, batch: BatchToReserve, session?: AnySession): Promise<TenantBatch>;
  settle(reservation: BatchReservation, costUsd: number, session?: AnySession): Promise<void>;
}

/** What {@link Batches} is built from. */
export interface BatchesParts {
  engine: JobEngine;
  clock: Clock;
  /** Absent: no provider settings, so `enqueueBatch` refuses. */
  appConfig: AppConfig | undefined;
  /** The step jobs' timeout and lease, in ms. */
  timeoutMs: number;
  /** Prompts known to this process (shared with the job queue). */
  prompts: Map<string, AnyPrompt>;
  /** Resolves a tenant (a virtual key's name or id) to whom its items are billed (without `tenancy`: no budgets). */
  attribution?: ((tenant: string) => Promise<UsageAttribution>) | undefined;
  /** The tenants' budgets (built on first use): a tenant's batch is reserved at enqueue and settled when it ends. */
  tenancy?: (() => BatchTenancy) | undefined;
  /** Where a session comes from when no transaction is given (the current `withSession` one, else the pool). */
  session: () => AnySession;
  /** Where a submit that adopts a batch sent by an earlier run is logged. */
  logger?: Logger | undefined;
}

/** What running one step produced: its result, its ledger rows, and the next step. */
export interface BatchStepRun {
  result: BatchStepResult;
  usage: UsageRecord[];
  next: NewJob | undefined;
}

/**
 * Batches on the providers' Batch APIs, kept durable by the job queue: a submit job uploads the
 * lines and creates the batch, then poll jobs, each scheduled `pollIntervalMs` after the last and
 * enqueued in the transaction that completes it, read the batch until it ends; the last one reads
 * the results and records the per-item results and ledger rows in its completing transaction.
 */
export class Batches {
  readonly #parts: BatchesParts;
  readonly #providers = new Map<BatchProviderName, BatchProvider>();
  readonly #prices: PriceBook;

  constructor(parts: BatchesParts) {
    this.#parts = parts;
    this.#prices = new PriceBook(parts.appConfig?.llm.prices ?? {});
  }

  /** Validates and renders every item, then enqueues the submit job; resolves with the batch's id. */
  async enqueue(
    prompt: AnyPrompt,
    contexts: readonly PromptContext<string, string>[],
    options: EnqueueBatchOptions,
    key: string,
  ): Promise<string> {
    const config = this.#parts.appConfig;
    const providerName = options.provider ?? config?.llm.provider ?? 'openai';
    if (config === undefined)
      throw new BatchUnsupportedError('batches need the provider settings of a Groundwork instance: use infra.jobs');
    if (!BATCH_PROVIDERS.includes(providerName)) {
      throw new BatchUnsupportedError(
        `${providerName} has no Batch API that Groundwork speaks (openai, azure and anthropic do): run the items as ordinary jobs with jobs.enqueue(), or pass provider`,
      );
    }
    const problems: string[] = [];
    if (!Array.isArray(contexts) || contexts.length === 0) problems.push('contexts must be a non-empty array');
    else if (contexts.length > MAX_BATCH_ITEMS)
      problems.push(`contexts holds ${contexts.length} items; a batch takes at most ${MAX_BATCH_ITEMS}`);
    const count = Array.isArray(contexts) ? contexts.length : 0;
    if (options.ids !== undefined) {
      if (!Array.isArray(options.ids) || options.ids.length !== count) problems.push(`ids must hold one id per context (${count})`);
      else {
        if (options.ids.some((id) => typeof id !== 'string' || id === '')) problems.push('ids must be non-empty strings');
        if (new Set(options.ids).size !== options.ids.length) problems.push('ids must be unique');
      }
    }
    const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isInteger(interval) || interval < 0 || interval > MAX_BATCH_POLL_INTERVAL_MS)
      problems.push(`pollIntervalMs must be a whole number from 0 to ${MAX_BATCH_POLL_INTERVAL_MS} (got ${interval})`);
    if (options.idempotencyKey !== undefined && (typeof options.idempotencyKey !== 'string' || options.idempotencyKey === ''))
      problems.push('idempotencyKey must be a non-empty string');
    if (prompt.tools !== undefined)
      problems.push(`prompt "${prompt.name}" has tools: a batch answers in one turn, so it cannot run a tool loop`);
    if (problems.length > 0) throw new JobInputError(problems);
    const provider = await this.#provider(providerName as BatchProviderName);
    const model = options.model ?? provider.defaultModel;
    const lines: Array<{ customId: string; body: unknown }> = [];
    const requests: ChatRequest[] = [];
    let answerTool: string | undefined;
    const tenancy = options.tenant === undefined ? undefined : this.#parts.tenancy?.();
    // A tenant's items are sent with the output maximum their reservation is priced at, as a tenant's chat call is.
    const maxOutputTokens = config.llm.maxOutputTokens ?? (tenancy === undefined ? undefined : config.tenants.maxOutputTokensEstimate);
    contexts.forEach((context, index) => {
      try {
        const request = batchRequestOf(prompt, context, model, maxOutputTokens);
        if (index === 0) answerTool = provider.answerTool(request);
        requests.push(request);
        lines.push({ customId: customIdOf(index), body: provider.body(request, model) });
      } catch (error) {
        if (problems.length < 20) problems.push(`contexts[${index}]: ${(error as Error).message}`);
      }
    });
    if (problems.length > 0) throw new JobInputError(problems);
    let attribution: UsageAttribution | undefined;
    let budget: BatchReservation | undefined;
    const session = options.tx ?? this.#parts.session();
    // In the caller's transaction, the reservation is made in it too: it then commits or rolls back
    // with the submit job (and on SQLite needs no second connection, which the transaction holds).
    const within = session.isTransaction ? session : undefined;
    if (options.tenant !== undefined && tenancy !== undefined) {
      if (within !== undefined && !tenancy.joinsTransactions) {
        throw new JobInputError([
          "tenant: the tenants' budgets live in Redis, where a batch's reservation cannot roll back with the transaction it is enqueued in; enqueue a tenant's batch after that transaction commits (outside withSession, without tx)",
        ]);
      }
      const leaseMs = BATCH_WINDOW_MS + interval + BATCH_LEASE_MARGIN_MS;
      ({ attribution, reservation: budget } = await tenancy.reserve(options.tenant, { model, requests, leaseMs }, within));
    } else if (options.tenant !== undefined) attribution = await this.#attribution(options.tenant);
    const now = this.#parts.clock.now();
    const promptRef = { name: prompt.name, version: String(prompt.version) };
    const spec: BatchSpec = {
      provider: provider.name,
      model,
      prompt: promptRef,
      ids: options.ids === undefined ? contexts.map((_, index) => String(index)) : [...options.ids],
      pollIntervalMs: interval,
      ...(attribution === undefined ? {} : { attribution }),
      ...(budget === undefined ? {} : { budget }),
      ...(answerTool === undefined ? {} : { answerTool }),
      createdAt: now,
    };
    const summary: BatchSummary = { provider: provider.name, model, prompt: promptRef, total: contexts.length, createdAt: now };
    const id = jobId(BATCH_SUBMIT_JOB, options.idempotencyKey === undefined ? undefined : `${key}\u0000${options.idempotencyKey}`);
    const job = this.#step(id, BATCH_SUBMIT_JOB, { batch: id, step: 0, spec, lines, summary }, new Date(now));
    let inserted: boolean;
    try {
      await this.#parts.engine.start();
      inserted = await this.#parts.engine.insert(session, job);
    } catch (error) {
      // Not enqueued: nothing holds the budget.
      if (budget !== undefined && tenancy !== undefined) await this.#release(tenancy, budget, within, error);
      throw error;
    }
    // The idempotency key's batch exists already: it holds a reservation of its own.
    if (!inserted && budget !== undefined && tenancy !== undefined) await tenancy.settle(budget, 0, within);
    return id;
  }

  /** The batch now; undefined when there is none. */
  get(id: string): Promise<BatchSnapshot | undefined> {
    return readBatch(this.#parts.engine, id);
  }

  /** Waits until the batch has ended and returns it, items included. */
  async wait(id: string, options: { signal?: AbortSignal; pollIntervalMs?: number } = {}): Promise<BatchSnapshot> {
    let interval = 20;
    const most = options.pollIntervalMs ?? 1000;
    const cursor = { lastPoll: 0 };
    for (;;) {
      const batch = await readBatch(this.#parts.engine, id, cursor);
      if (batch === undefined) throw new BatchNotFoundError(id);
      if (BATCH_END_STATES.includes(batch.state)) return batch;
      await sleep(interval, options.signal, this.#parts.clock);
      interval = Math.min(most, interval * 2);
    }
  }

  /** Batches, newest first. */
  async list(limit = 20): Promise<BatchSnapshot[]> {
    const jobs = await this.#parts.engine.list({ name: BATCH_SUBMIT_JOB, limit });
    const batches = await Promise.all(jobs.map((job) => this.get(job.id)));
    return batches.filter((batch): batch is BatchSnapshot => batch !== undefined);
  }

  /**
   * Cancels the batch: before it is submitted, its submit job; after, at the provider (the polls
   * then report the items that finished, and the others as `batch_cancelled`). A submit waiting to
   * run again after a failed run may have reached the provider (only its answer was lost): the
   * batch is looked for there first, and one found is cancelled there, its submit step adopting it
   * when it runs again. False when it has ended already, is being submitted at this moment, or
   * whether an earlier run reached the provider cannot be told now (try again).
   */
  async cancel(id: string): Promise<boolean> {
    const engine = this.#parts.engine;
    const submit = await engine.get(id);
    if (submit === undefined || submit.name !== BATCH_SUBMIT_JOB) throw new BatchNotFoundError(id);
    if (submit.state === 'created' || submit.state === 'retry') {
      if (submit.attempts > 0) {
        const sent = await this.#sentEarlier(id);
        if (sent === 'unknown') return false;
        if (sent !== undefined) {
          await sent.provider.cancel(sent.providerBatchId, AbortSignal.timeout(60_000));
          return true;
        }
      }
      // Only while it still waits, in one statement: a worker may have claimed it since it was read,
      // and a submit running now sends its batch whatever happens to its job.
      const cancelled = await engine.cancel(id, { states: ['created', 'retry'] });
      // Never submitted, so nothing was charged: the whole reservation is released.
      if (cancelled) await this.#settle((await engine.payloadField(id, 'spec')) as BatchSpec | undefined, 0);
      return cancelled;
    }
    if (submit.state !== 'completed') return false;
    const batch = await this.get(id);
    if (batch === undefined || BATCH_END_STATES.includes(batch.state) || batch.providerBatchId === undefined) return false;
    await (await this.#provider(batch.provider)).cancel(batch.providerBatchId, AbortSignal.timeout(60_000));
    return true;
  }

  /** True for the job names of batch steps. */
  static handles(name: string): boolean {
    return name === BATCH_SUBMIT_JOB || name === BATCH_POLL_JOB;
  }

  /**
   * The batch an earlier run of this submit left at the provider, if any. A listing the provider
   * refuses for good (403, 404: a key that may create batches but not list them) does not fail
   * the batch: it is logged and the batch sent; a transient failure is thrown, so the step runs again.
   */
  async #findSubmitted(provider: BatchProvider, batch: string, sinceMs: number, signal: AbortSignal): Promise<string | undefined> {
    try {
      return await provider.findSubmitted(batch, sinceMs, signal);
    } catch (error) {
      if (!(error instanceof BatchProviderError) || error.retryable) throw error;
      this.#parts.logger?.warn(
        { batch, status: error.status },
        `batch: could not look for a batch an earlier run may have sent (${scrubSecrets(error.message)}); sending it`,
      );
      return undefined;
    }
  }

  /**
   * Whether the provider shows that no run of submit `batch` created its batch: false when it has
   * one, or when that cannot be told (it keeps no marker, as Anthropic, or its listing failed).
   */
  async #neverSent(provider: BatchProvider, batch: string, sinceMs: number, signal: AbortSignal): Promise<boolean> {
    if (!provider.findsSubmitted) return false;
    try {
      return (await provider.findSubmitted(batch, sinceMs, signal)) === undefined;
    } catch (error) {
      this.#parts.logger?.warn(
        { batch },
        `batch: could not look for a batch the failed submit may have sent (${scrubSecrets((error as Error)?.message ?? String(error))}); its reservation is kept until it is retried or its lease ends`,
      );
      return false;
    }
  }

  /**
   * The batch an earlier run of submit job `id` left at the provider: undefined when it has none,
   * `unknown` when that cannot be told now (the provider keeps no marker to find it by, as
   * Anthropic's Message Batches, or refused or failed the listing).
   */
  async #sentEarlier(id: string): Promise<{ provider: BatchProvider; providerBatchId: string } | 'unknown' | undefined> {
    const spec = (await this.#parts.engine.payloadField(id, 'spec')) as BatchSpec | undefined;
    if (spec === undefined) return 'unknown';
    const provider = await this.#provider(spec.provider);
    if (!provider.findsSubmitted) return 'unknown';
    try {
      const providerBatchId = await provider.findSubmitted(id, spec.createdAt, AbortSignal.timeout(60_000));
      return providerBatchId === undefined ? undefined : { provider, providerBatchId };
    } catch (error) {
      if (!(error instanceof BatchProviderError) && !isTimeout(error)) throw error;
      this.#parts.logger?.warn(
        { batch: id, ...(error instanceof BatchProviderError ? { status: error.status } : {}) },
        `batch: could not look for the batch an earlier submit may have sent (${scrubSecrets((error as Error).message)}); not cancelled, try again`,
      );
      return 'unknown';
    }
  }

  /** Runs one step of a batch (a claimed submit or poll job). */
  async run(job: ClaimedJob, signal: AbortSignal): Promise<BatchStepRun> {
    if (job.data.kind !== 'custom') throw new JobHandlerMissingError(`job ${job.id} is not a batch step`);
    const payload = job.data.payload as BatchStepPayload & { summary: BatchSummary };
    const { spec } = payload;
    const provider = await this.#provider(spec.provider);
    const now = this.#parts.clock.now();
    if (payload.step === 0) {
      let providerBatchId: string;
      try {
        // A run before this one may have been cut off after the provider accepted its batch (the worker
        // died, the answer was lost): that batch is this one's, so it is adopted rather than sent twice.
        const earlier = job.attempt > 1 ? await this.#findSubmitted(provider, payload.batch, spec.createdAt, signal) : undefined;
        if (earlier !== undefined) this.#parts.logger?.info({ batch: payload.batch, providerBatchId: earlier }, ADOPTED);
        providerBatchId = earlier ?? (await provider.submit(payload.lines ?? [], { groundwork_batch: payload.batch }, signal));
      } catch (error) {
        const refused = error instanceof BatchProviderError && !error.retryable;
        // The last run, failing again: a batch the provider shows it never created ends failed here,
        // its reservation released; one it may hold is dead-lettered with the reservation, for `jobs retry`.
        const last = !refused && job.attempt > STEP_RETRIES && !signal.aborted;
        if (refused || (last && (await this.#neverSent(provider, payload.batch, spec.createdAt, signal)))) {
          const message = scrubSecrets((error as Error)?.message ?? String(error));
          const result = {
            batch: payload.batch,
            summary: payload.summary,
            state: 'failed' as const,
            counts: none(),
            error: refused ? message : `${message} (on all ${job.attempt} runs; the provider has no batch from them)`,
            endedAt: now,
          };
          await this.#settle(spec, 0);
          return { result, usage: [], next: undefined };
        }
        throw error;
      }
      const result = { batch: payload.batch, summary: payload.summary, state: 'in_progress' as const, providerBatchId, counts: none() };
      return { result, usage: [], next: this.#poll(payload, 1, providerBatchId, now) };
    }
    const providerBatchId = payload.providerBatchId ?? '';
    const status = await provider.status(providerBatchId, signal);
    const base = { batch: payload.batch, providerBatchId, providerStatus: status.providerStatus };
    if (status.state === 'in_progress' || status.outcome === undefined) {
      const counts = { succeeded: status.counts.succeeded, failed: status.counts.errored };
      return {
        result: { ...base, state: 'in_progress', counts },
        usage: [],
        next: this.#poll(payload, payload.step + 1, providerBatchId, now),
      };
    }
    const prompt = this.#parts.prompts.get(`${spec.prompt.name}@${spec.prompt.version}`);
    if (prompt === undefined) {
      throw new JobHandlerMissingError(
        `prompt "${spec.prompt.name}" version ${spec.prompt.version} is not known to this worker, which must parse the batch's answers: pass it to jobs.work({ prompts })`,
      );
    }
    const results = await provider.results(status, signal);
    const whole = await this.#wholeSpec(payload);
    const outcome = batchOutcome({
      spec: whole,
      prompt,
      provider,
      results,
      outcome: status.outcome,
      ...(status.error === undefined ? {} : { batchError: status.error }),
      prices: this.#prices,
      now: new Date(now),
      latencyMs: Math.max(0, now - spec.createdAt),
    });
    // Before the completing transaction: a final poll run again settles nothing more (settled once, by reservation).
    await this.#settle(
      spec,
      outcome.usage.reduce((sum, record) => sum + record.costUsd, 0),
    );
    const failed = outcome.items.filter((item) => !item.ok).length;
    const result: BatchStepResult = {
      ...base,
      state: status.outcome,
      counts: { succeeded: outcome.items.length - failed, failed },
      ...(status.error === undefined ? {} : { error: status.error }),
      items: outcome.items,
      endedAt: now,
    };
    return { result, usage: outcome.usage, next: undefined };
  }

  /** Closes the providers' connection pools. */
  async close(): Promise<void> {
    await Promise.all([...this.#providers.values()].map((provider) => provider.close()));
    this.#providers.clear();
  }

  /** The Batch API client of `name`, made on first use (its wire code loads only then). */
  async #provider(name: BatchProviderName): Promise<BatchProvider> {
    let provider = this.#providers.get(name);
    if (provider === undefined) {
      const config = this.#parts.appConfig;
      if (config === undefined)
        throw new BatchUnsupportedError('batches need the provider settings of a Groundwork instance: use infra.jobs');
      const { createBatchProvider } = await import('./create-batch-provider.js');
      provider = this.#providers.get(name) ?? createBatchProvider(config, name);
      this.#providers.set(name, provider);
    }
    return provider;
  }

  /** Settles a batch's budget reservation to `costUsd`, once; nothing when it holds none. */
  async #settle(spec: Pick<BatchSpec, 'budget' | 'prompt'> | undefined, costUsd: number): Promise<void> {
    if (spec?.budget === undefined) return;
    const tenancy = this.#parts.tenancy?.();
    if (tenancy === undefined)
      throw new JobHandlerMissingError(
        `batch ${spec.prompt.name} holds a tenant's budget reservation, but this worker has no tenants: use infra.jobs`,
      );
    await tenancy.settle(spec.budget, costUsd);
  }

  /**
   * Releases the reservation of a batch whose insert failed with `cause`. In the caller's
   * transaction the release may fail because the failure ended the transaction (PostgreSQL refuses
   * every statement after one failed): the reservation then rolls back with it, and `cause` is
   * what the caller needs to see, so the release's own error is logged rather than thrown.
   */
  async #release(tenancy: BatchTenancy, budget: BatchReservation, within: AnySession | undefined, cause: unknown): Promise<void> {
    if (within === undefined) {
      await tenancy.settle(budget, 0);
      return;
    }
    try {
      await tenancy.settle(budget, 0, within);
    } catch (error) {
      this.#parts.logger?.warn(
        { reservation: budget.id, cause: scrubSecrets((cause as Error)?.message ?? String(cause)) },
        `batch: releasing the reservation of a batch not enqueued failed in its transaction (${scrubSecrets((error as Error)?.message ?? String(error))}); it rolls back with that transaction`,
      );
    }
  }

  async #attribution(tenant: string): Promise<UsageAttribution> {
    const resolve = this.#parts.attribution;
    if (resolve === undefined) throw new JobInputError(['tenant needs the tenants of a Groundwork instance: use infra.jobs']);
    return resolve(tenant);
  }

  /**
   * The spec of a poll's batch, ids included: a poll carries none (every poll would copy up to
   * 50,000 of them, kept 30 days), so they are read from the submit's; one queued by an earlier
   * version carries them.
   */
  async #wholeSpec(payload: BatchStepPayload): Promise<BatchSpec> {
    const { spec } = payload;
    if (spec.ids !== undefined) return spec as BatchSpec;
    const submitted = (await this.#parts.engine.payloadField(payload.batch, 'spec')) as BatchSpec | undefined;
    if (submitted === undefined) throw new BatchNotFoundError(payload.batch);
    return submitted;
  }

  #poll(payload: BatchStepPayload & { summary: BatchSummary }, step: number, providerBatchId: string, now: number): NewJob {
    const { ids: _ids, ...spec } = payload.spec;
    const next = { batch: payload.batch, step, spec, providerBatchId, summary: payload.summary };
    return this.#step(pollId(payload.batch, step), BATCH_POLL_JOB, next, new Date(now + payload.spec.pollIntervalMs));
  }

  #step(id: string, name: string, payload: BatchStepPayload & { summary: BatchSummary }, runAt: Date): NewJob {
    return {
      id,
      name,
      data: { kind: 'custom', payload },
      priority: 0,
      runAt,
      retryLimit: STEP_RETRIES,
      // A failed step waits like a poll (2 s at most, doubling after each failure).
      retryDelayMs: Math.min(2000, Math.max(10, payload.spec.pollIntervalMs)),
      retryBackoff: true,
      timeoutMs: this.#parts.timeoutMs,
      resultTtlMs: STEP_TTL_MS,
    };
  }
}

/** Whether `error` is an abort by a timeout signal (or an abort at all): the provider did not answer in time. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
