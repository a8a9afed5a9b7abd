import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { BATCH_END_STATES, type BatchSnapshot } from '../../jobs/batch/batch-types.js';
import type { AnyPrompt, JobHandler, JobSnapshot, JobState } from '../../jobs/job-types.js';
import { silentLogger } from '../../observability/logger.js';
import { flagsNotTaken, UsageError } from '../command-table.js';
import type { CommandIo } from '../output.js';
import { processSignals, type ServeSignals } from '../process-signals.js';
import { prepareDatabase } from './prepare-database.js';

/** What `groundwork jobs` was asked. */
export interface JobsArgs {
  action: 'status' | 'list' | 'retry' | 'cancel' | 'work' | 'batches' | 'cancel-batch';
  id: string | undefined;
  state: JobState | undefined;
  name: string | undefined;
  limit: number;
  concurrency: number;
  names: string[] | undefined;
  module: string | undefined;
  json: boolean;
}

/**
 * What a `--module` for `groundwork jobs work` exports: `prompts` it can run, and `jobs`, the
 * handlers of custom kinds by name.
 */
export interface JobsModule {
  prompts?: readonly AnyPrompt[];
  jobs?: Record<string, JobHandler<never, unknown, Infrastructure>>;
}

/** `groundwork jobs status|list|retry|cancel|work|batches|cancel-batch`. */
export async function jobsCommand(args: JobsArgs, io: CommandIo, signals?: ServeSignals): Promise<number> {
  const infrastructure = await createInfrastructure({
    env: io.env,
    isTty: io.isTty,
    logDestination: 'stderr',
    ...(args.action === 'work' ? {} : { logger: silentLogger() }),
  });
  try {
    await prepareDatabase(infrastructure);
    const jobs = infrastructure.jobs;
    switch (args.action) {
      case 'status': {
        const status = await jobs.status();
        if (args.json) {
          io.out(JSON.stringify(status, null, 2));
          return 0;
        }
        io.out(`engine: ${status.engine}`);
        for (const [state, count] of Object.entries(status.counts)) io.out(`${state.padEnd(10)} ${count}`);
        io.out(`oldest due job waiting: ${Math.round(status.oldestDueAgeMs / 1000)} s`);
        io.out(
          status.unrunnable === 0
            ? 'jobs no worker could run: 0'
            : `jobs no worker could run: ${status.unrunnable}, waiting up to ${Math.round(status.oldestUnrunnableAgeMs / 1000)} s for a worker ` +
                'that knows their prompt version or kind (groundwork jobs list --state retry shows what is missing)',
        );
        return 0;
      }
      case 'list': {
        const listed = await jobs.list({
          limit: args.limit,
          ...(args.state === undefined ? {} : { state: args.state }),
          ...(args.name === undefined ? {} : { name: args.name }),
        });
        if (args.json) {
          io.out(JSON.stringify(listed, null, 2));
          return 0;
        }
        if (listed.length === 0) io.out('No jobs.');
        for (const job of listed) io.out(line(job));
        return 0;
      }
      case 'retry':
      case 'cancel': {
        const id = args.id as string;
        const done = args.action === 'retry' ? await jobs.retry(id) : await jobs.cancel(id);
        const job = await jobs.get(id);
        if (!done) {
          io.err(
            job === undefined
              ? `No job ${id}.`
              : args.action === 'retry'
                ? `Job ${id} is ${job.state}: only failed or cancelled jobs can be retried.`
                : `Job ${id} is ${job.state}: only jobs that have not finished can be cancelled.`,
          );
          return 1;
        }
        io.out(args.json ? JSON.stringify(job, null, 2) : `Job ${id} is now ${job?.state ?? 'gone'}.`);
        return 0;
      }
      case 'batches': {
        if (args.id !== undefined) {
          const batch = await jobs.getBatch(args.id);
          if (batch === undefined) {
            io.err(`No batch ${args.id}.`);
            return 1;
          }
          if (args.json) io.out(JSON.stringify(batch, null, 2));
          else {
            io.out(batchLine(batch));
            for (const item of batch.items ?? []) {
              io.out(
                `  ${item.index}  ${item.id}  ${item.ok ? 'ok' : `${item.error?.code ?? 'error'}: ${(item.error?.message ?? '').slice(0, 100)}`}`,
              );
            }
          }
          return 0;
        }
        const batches = await jobs.listBatches(Math.min(args.limit, 200));
        if (args.json) {
          io.out(
            JSON.stringify(
              batches.map(({ items: _items, ...batch }) => batch),
              null,
              2,
            ),
          );
          return 0;
        }
        if (batches.length === 0) io.out('No batches.');
        for (const batch of batches) io.out(batchLine(batch));
        return 0;
      }
      case 'cancel-batch': {
        const id = args.id as string;
        const batch = await jobs.getBatch(id);
        if (batch === undefined) {
          io.err(`No batch ${id}.`);
          return 1;
        }
        if (!(await jobs.cancelBatch(id))) {
          io.err(await notCancelled(jobs, id));
          return 1;
        }
        io.out(
          `Batch ${id}: cancel asked${batch.providerBatchId === undefined ? '' : ` at ${batch.provider}`}; its items are reported once it ends.`,
        );
        return 0;
      }
      case 'work':
        return await work(infrastructure, args, io, signals ?? processSignals());
    }
  } finally {
    await infrastructure.close();
  }
}

async function work(infrastructure: Infrastructure, args: JobsArgs, io: CommandIo, signals: ServeSignals): Promise<number> {
  try {
    let prompts: readonly AnyPrompt[] = [];
    if (args.module !== undefined) {
      const loaded = (await import(pathToFileURL(resolve(args.module)).href)) as JobsModule;
      prompts = loaded.prompts ?? [];
      for (const [name, handler] of Object.entries(loaded.jobs ?? {})) infrastructure.jobs.define(name, handler);
    }
    const worker = infrastructure.jobs.work({
      concurrency: args.concurrency,
      prompts,
      ...(args.names === undefined ? {} : { names: args.names }),
    });
    io.err(`Working jobs (${infrastructure.jobs.engine}, ${args.concurrency} at once) until SIGTERM or SIGINT…`);
    const signal = await signals.stopped;
    io.err(`${signal} received: finishing running jobs, then stopping…`);
    await worker.stop();
    io.err('Stopped.');
    return 0;
  } finally {
    signals.dispose();
  }
}

/** Why `cancelBatch` answered false, after the batch's state now: ended, or try again when. */
async function notCancelled(jobs: Infrastructure['jobs'], id: string): Promise<string> {
  const batch = await jobs.getBatch(id);
  if (batch === undefined) return `No batch ${id}.`;
  if (BATCH_END_STATES.includes(batch.state)) return `Batch ${id} has ended (${batch.state}): there is nothing left to cancel.`;
  if (batch.state === 'submitting') {
    return (await jobs.get(id))?.state === 'active'
      ? `Batch ${id} is being submitted at this moment: try again once it is in progress at the provider (groundwork jobs batches ${id}).`
      : `Batch ${id} waits to be submitted again, and whether its earlier run reached the provider cannot be told now: try again once its submit has run (groundwork jobs batches ${id}).`;
  }
  return `Batch ${id} is ${batch.state}, but its cancel could not be sent now: try again.`;
}

/** One batch on one line: id, provider and model, state, progress, age, error. */
function batchLine(batch: BatchSnapshot): string {
  const cells = [
    batch.id,
    `${batch.provider}/${batch.model}`,
    batch.state + (batch.providerStatus === undefined ? '' : ` (${batch.providerStatus})`),
    `${batch.counts.succeeded} ok, ${batch.counts.failed} failed of ${batch.total}`,
    batch.createdAt.toISOString(),
  ];
  if (batch.error !== undefined) cells.push(batch.error.slice(0, 120));
  return cells.join('  ');
}

function line(job: JobSnapshot): string {
  const cells = [job.id, job.name, job.state, `${job.attempts}/${job.maxAttempts}`, job.createdAt.toISOString()];
  if (job.error !== undefined) cells.push(job.error.slice(0, 120));
  return cells.join('  ');
}

/** The flags each `groundwork jobs` action takes. */
const JOBS_ACTION_FLAGS: Record<string, readonly string[]> = {
  status: ['json'],
  list: ['state', 'name', 'limit', 'json'],
  retry: ['json'],
  cancel: ['json'],
  work: ['concurrency', 'names', 'module'],
  batches: ['limit', 'json'],
  'cancel-batch': [],
};

/** Checks `groundwork jobs` arguments, every problem at once; a flag the action does not take is one. */
export function checkJobsArgs(positionals: readonly string[], flags: Record<string, string | boolean | undefined>): JobsArgs {
  const [action, id, ...extra] = positionals;
  const actions = ['status', 'list', 'retry', 'cancel', 'work', 'batches', 'cancel-batch'];
  if (action === undefined) throw new UsageError('Give an action: status, list, retry, cancel, work, batches or cancel-batch.');
  if (!actions.includes(action))
    throw new UsageError(`Unknown action "${action}": use status, list, retry, cancel, work, batches or cancel-batch.`);
  const problems: string[] = [];
  const taken = JOBS_ACTION_FLAGS[action] ?? [];
  const ignored = flagsNotTaken(action, flags, taken);
  if (ignored !== undefined) problems.push(ignored);
  if ((action === 'retry' || action === 'cancel') && id === undefined) problems.push(`${action} needs a job id`);
  if (action === 'cancel-batch' && id === undefined) problems.push('cancel-batch needs a batch id');
  if (!['retry', 'cancel', 'cancel-batch', 'batches'].includes(action) && id !== undefined) problems.push(`unexpected argument "${id}"`);
  if (extra.length > 0) problems.push(`unexpected arguments: ${extra.join(' ')}`);
  const states = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'];
  const state = flags.state as string | undefined;
  if (state !== undefined && !states.includes(state)) problems.push(`--state ${state}: use ${states.join(', ')}`);
  const whole = (flag: string, fallback: number, most: number) => {
    const raw = flags[flag] as string | undefined;
    if (raw === undefined) return fallback;
    // Decimal digits only: Number() alone reads 0x10 as 16 and 1e3 as 1000.
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isInteger(value) || value < 1 || value > most) problems.push(`--${flag} ${raw}: use a whole number from 1 to ${most}`);
    return value;
  };
  const limit = whole('limit', 50, 10_000);
  const concurrency = whole('concurrency', 4, 1000);
  if (problems.length > 0) throw new UsageError(`${problems.join('; ')}.`);
  const names = flags.names as string | undefined;
  return {
    action: action as JobsArgs['action'],
    id,
    state: state as JobState | undefined,
    name: flags.name as string | undefined,
    limit,
    concurrency,
    names:
      names === undefined
        ? undefined
        : names
            .split(',')
            .map((name) => name.trim())
            .filter((name) => name !== ''),
    module: flags.module as string | undefined,
    json: flags.json === true,
  };
}
