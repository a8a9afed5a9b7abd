import type { JobEngine } from '../job-engine.js';
import { jobId } from '../job-id.js';
import type { BatchProviderName } from './batch-provider.js';
import type { BatchSnapshot, BatchSpec, BatchStepResult } from './batch-types.js';

/** The job that submits a batch; its id is the batch's id. */
export const BATCH_SUBMIT_JOB = 'groundwork.batch';
/** The jobs that poll a batch, one per poll, each enqueueing the next in the transaction that completes it. */
export const BATCH_POLL_JOB = 'groundwork.batch.poll';

/** What every step result and the submit job's payload say about the batch. */
export interface BatchSummary {
  provider: BatchProviderName;
  model: string;
  prompt: { name: string; version: string };
  total: number;
  createdAt: number;
}

/** Where a reader of one batch got to: the last poll step it found enqueued (0: none yet). Polls only ever grow. */
export interface BatchCursor {
  lastPoll: number;
}

/**
 * A batch as its steps' job rows say: the submit job (its id the batch's), then the last poll
 * enqueued, found by doubling and bisecting over the polls' name-derived ids, from `cursor`'s
 * poll when given (and moved to the one found), so a reader that keeps reading the same batch
 * looks up one or two ids per read, not twice the logarithm of its polls. Undefined when there
 * is no such batch.
 */
export async function readBatch(engine: JobEngine, id: string, cursor: BatchCursor = { lastPoll: 0 }): Promise<BatchSnapshot | undefined> {
  const submit = await engine.get(id);
  if (submit === undefined || submit.name !== BATCH_SUBMIT_JOB) return undefined;
  if (submit.state !== 'completed') {
    const summary = (await engine.payloadField(id, 'summary')) as BatchSummary;
    if (submit.state === 'failed') {
      // Dead-lettered: the provider may hold its batch, its reservation is kept, and a retry resumes it.
      const error = `submitting failed after its retries: ${submit.error ?? 'unknown'} (groundwork jobs retry ${id} resumes it)`;
      return snapshot(id, summary, await unsent(engine, id, 'failed', 'batch_failed', error, error));
    }
    if (submit.state === 'cancelled') {
      const message = 'the batch was cancelled before it was submitted';
      return snapshot(id, summary, await unsent(engine, id, 'cancelled', 'batch_cancelled', message, undefined));
    }
    return snapshot(id, summary, { batch: id, state: 'submitting', counts: none() });
  }
  const first = submit.result as BatchStepResult & { summary: BatchSummary };
  if (first.state === 'failed' && first.items === undefined) {
    return snapshot(id, first.summary, {
      ...(await unsent(engine, id, 'failed', 'batch_failed', first.error ?? 'submitting failed', first.error)),
      ...(first.endedAt === undefined ? {} : { endedAt: first.endedAt }),
    });
  }
  if (first.state !== 'in_progress') return snapshot(id, first.summary, first);
  const last = await lastPoll(engine, id, cursor.lastPoll);
  cursor.lastPoll = last;
  const job = await engine.get(pollId(id, last));
  if (job?.state === 'completed') return snapshot(id, first.summary, job.result as BatchStepResult);
  const previous = last === 1 ? first : (((await engine.get(pollId(id, last - 1)))?.result as BatchStepResult | undefined) ?? first);
  if (job?.state === 'failed' || job?.state === 'cancelled') {
    const why = job.state === 'failed' ? `polling failed after its retries: ${job.error ?? 'unknown'}` : 'polling was cancelled';
    return snapshot(id, first.summary, { ...previous, state: 'failed', error: `${why} (groundwork jobs retry ${job.id} resumes it)` });
  }
  return snapshot(id, first.summary, { ...previous, state: 'in_progress' });
}

/** A batch that never reached the provider: every item with the same error. */
async function unsent(
  engine: JobEngine,
  id: string,
  state: 'failed' | 'cancelled',
  code: string,
  message: string,
  error: string | undefined,
): Promise<BatchStepResult> {
  const spec = (await engine.payloadField(id, 'spec')) as BatchSpec;
  const items = spec.ids.map((itemId, index) => ({ index, id: itemId, ok: false, error: { code, message } }));
  return { batch: id, state, counts: { succeeded: 0, failed: items.length }, items, ...(error === undefined ? {} : { error }) };
}

/**
 * The number of the last poll step enqueued (0: none yet), at least `from` (a step known to be
 * enqueued): doubling the distance past `from` (1, 2, 4…), then bisecting, over the steps' ids.
 */
async function lastPoll(engine: JobEngine, batch: string, from: number): Promise<number> {
  const exists = (step: number) => engine.has(pollId(batch, step));
  let low = from;
  let high = from + 1;
  while (await exists(high)) {
    low = high;
    high = from + 2 * (high - from);
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await exists(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/** The id of a batch's poll number `step`. */
export function pollId(batch: string, step: number): string {
  return jobId(BATCH_POLL_JOB, `${batch}#${step}`);
}

export function none() {
  return { succeeded: 0, failed: 0 };
}

function snapshot(id: string, summary: BatchSummary, step: BatchStepResult): BatchSnapshot {
  return {
    id,
    provider: summary.provider,
    model: summary.model,
    prompt: summary.prompt,
    state: step.state,
    providerBatchId: step.providerBatchId,
    providerStatus: step.providerStatus,
    total: summary.total,
    counts: step.counts,
    createdAt: new Date(summary.createdAt),
    endedAt: step.endedAt === undefined ? undefined : new Date(step.endedAt),
    error: step.error,
    items: step.items,
  };
}
