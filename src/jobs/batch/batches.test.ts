import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TSX_IMPORT } from '../../../test/node-process.js';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { Infrastructure } from '../../infrastructure.js';
import { definePrompt } from '../../llm/prompt.js';
import { createLogger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/index.js';
import { JobInputError } from '../job-errors.js';
import { FULL_JOBS_TARGETS, type JobsDatabase, type JobsTarget } from '../jobs.test-helpers.js';
import { BatchUnsupportedError } from './batch-errors.js';

const KEY = 'sk-batch-canary-7d3e9a1b5c2f4e8d';
/** A worker process (the fleet test's), killed here while the provider holds its submit's answer. */
const FLEET_WORKER = fileURLToPath(new URL('../fleet-worker.test-helpers.ts', import.meta.url));

let fake: FakeProviderServer;
beforeAll(async () => {
  fake = await startFakeProviderServer();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const translate = definePrompt({
  name: 'batch-translate',
  version: 1,
  template: 'Translate {{word}}.',
  schema: z.object({ word: z.string() }),
});

/** Answers each line with the word of its request, so every item's answer is its own. */
function echoWords(): void {
  fake.setHandler((request) => {
    const text = JSON.stringify(request.body);
    const word = /Translate (\w+)\./.exec(text)?.[1] ?? 'none';
    return { type: 'answer', json: { word: word.toUpperCase() }, usage: { promptTokens: 100, completionTokens: 10 } };
  });
}

type Provider = 'openai' | 'azure' | 'anthropic';

function envFor(provider: Provider, url: string): Record<string, string> {
  if (provider === 'azure') {
    return {
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_API_KEY: KEY,
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini-batch',
      OPENAI_API_VERSION: '2024-10-21',
    };
  }
  if (provider === 'anthropic')
    return {
      LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      ANTHROPIC_MODEL: 'claude-haiku-4-5',
    };
  return {
    LLM_PROVIDER: 'openai',
    OPENAI_API_KEY: KEY,
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    DATABASE_URL: url,
  };
}

const logLines: string[] = [];

async function open(url: string, provider: Provider = 'openai', extra: Record<string, string> = {}): Promise<Infrastructure> {
  const logger = createLogger({ level: 'trace', format: 'json' }, { destination: { write: (line: string) => void logLines.push(line) } });
  const infra = await createInfrastructure({
    env: {
      ...envFor(provider, url),
      DATABASE_URL: url,
      LLM_CACHE: 'off',
      JOBS_POLL_INTERVAL_MS: '50',
      JOBS_SCHEMA: 'batch_test',
      ...extra,
    },
    envFile: false,
    logger,
  });
  await infra.initDb();
  return infra;
}

interface LedgerRow {
  operation: string;
  provider: string;
  model: string;
  outcome: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  job_id: string | null;
  key_id: string | null;
}

async function ledger(infra: Infrastructure): Promise<LedgerRow[]> {
  const rows = await infra.db
    .selectFrom('llm_usage' as never)
    .select(['operation', 'provider', 'model', 'outcome', 'prompt_tokens', 'completion_tokens', 'cost_usd', 'job_id', 'key_id'] as never[])
    .execute();
  return (rows as unknown as LedgerRow[]).map((row) => ({
    ...row,
    cost_usd: Number(row.cost_usd),
    prompt_tokens: Number(row.prompt_tokens),
  }));
}

describe.each(FULL_JOBS_TARGETS)('batches on $name', (target: JobsTarget) => {
  let database: JobsDatabase;
  let infra: Infrastructure;
  const opened: Infrastructure[] = [];
  const openInfra = async (provider: Provider = 'openai', extra: Record<string, string> = {}) => {
    const instance = await open(database.url, provider, extra);
    opened.push(instance);
    return instance;
  };

  beforeEach(async () => {
    database = await target.create();
    infra = await openInfra();
  }, 60_000);

  afterEach(async () => {
    for (const instance of opened.splice(0)) await instance.close();
    await database.drop();
  });

  it('runs a batch on OpenAI: lines valid against the contract, items in order with parsed output, ledger at half price', async () => {
    echoWords();
    fake.batches.settings.pollsBeforeEnd = 2;
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'eins' }, { word: 'zwei' }, { word: 'drei' }], {
      ids: ['a', 'b', 'c'],
      pollIntervalMs: 10,
    });
    expect((await infra.jobs.getBatch(id))?.state).toBe('submitting');
    const worker = infra.jobs.work({ concurrency: 2 });
    const batch = await infra.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch).toMatchObject({
      state: 'completed',
      provider: 'openai',
      model: 'gpt-4o-mini',
      total: 3,
      counts: { succeeded: 3, failed: 0 },
    });
    expect(batch.items?.map((item) => [item.index, item.id, item.ok, item.data])).toEqual([
      [0, 'a', true, { word: 'EINS' }],
      [1, 'b', true, { word: 'ZWEI' }],
      [2, 'c', true, { word: 'DREI' }],
    ]);
    // gpt-4o-mini lists at 0.15 / 0.6 USD per million tokens: 100 in, 10 out, at half price.
    const cost = ((100 * 0.15 + 10 * 0.6) / 1_000_000) * 0.5;
    expect(batch.items?.[0]?.usage).toEqual({ promptTokens: 100, completionTokens: 10, totalTokens: 110, costUsd: cost });
    const rows = await ledger(infra);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatchObject({ operation: 'batch', provider: 'openai', outcome: 'success', prompt_tokens: 100 });
    for (const row of rows) expect(row.cost_usd).toBeCloseTo(cost, 12);

    const upload = fake.requests.find((request) => request.path === '/v1/files');
    const jsonl = String(upload?.body).split('\r\n\r\n').at(-1) ?? '';
    const lines = jsonl
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
      expect(validateOpenAiSchema('CreateChatCompletionRequest', line['body'])).toEqual([]);
    }
    const create = fake.requests.find((request) => request.path === '/v1/batches' && request.method === 'POST');
    expect(validateOpenAiSchema('CreateBatchRequest', create?.body)).toEqual([]);
    const created = await (
      await fetch(`${fake.openaiBaseUrl}/batches/${batch.providerBatchId}`, { headers: { authorization: 'Bearer x' } })
    ).json();
    expect(validateOpenAiSchema('Batch', created)).toEqual([]);
    expect(fake.requests.filter((request) => /^\/v1\/batches\/[^/]+$/.test(request.path)).length).toBeGreaterThanOrEqual(4);
  });

  it('records a batch of 3,000 items, more ledger rows than one INSERT can bind, once each', async () => {
    echoWords();
    const contexts = Array.from({ length: 3000 }, (_, index) => ({ word: `w${index}` }));
    const id = await infra.jobs.enqueueBatch(translate, contexts, { pollIntervalMs: 10 });
    const worker = infra.jobs.work({ concurrency: 2 });
    const batch = await infra.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch).toMatchObject({ state: 'completed', total: 3000, counts: { succeeded: 3000, failed: 0 } });
    expect(batch.items?.[2999]?.data).toEqual({ word: 'W2999' });
    const rows = await ledger(infra);
    expect(rows).toHaveLength(3000);
    expect(rows.every((row) => row.operation === 'batch' && row.outcome === 'success')).toBe(true);
  }, 120_000);

  it('runs a batch on Azure OpenAI under /openai/... with the api-version', async () => {
    echoWords();
    const azure = await openInfra('azure');
    const id = await azure.jobs.enqueueBatch(translate, [{ word: 'un' }, { word: 'deux' }], { pollIntervalMs: 10 });
    const worker = azure.jobs.work();
    const batch = await azure.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('completed');
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'UN' }, { word: 'DEUX' }]);
    const paths = fake.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain('POST /openai/files');
    expect(paths).toContain('POST /openai/batches');
    for (const request of fake.requests) expect(request.query['api-version']).toBe('2024-10-21');
    const upload = fake.requests.find((request) => request.path === '/openai/files');
    const lines = (String(upload?.body).split('\r\n\r\n').at(-1) ?? '').split('\n').filter((line) => line.startsWith('{'));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { url: string; body: { model: string } };
      expect(parsed).toMatchObject({ url: '/chat/completions', body: { model: 'gpt-4o-mini-batch' } });
      expect(validateOpenAiSchema('CreateChatCompletionRequest', parsed.body)).toEqual([]);
    }
    const create = fake.requests.find((request) => request.path === '/openai/batches');
    expect(create?.body).toMatchObject({ endpoint: '/chat/completions', completion_window: '24h' });
    expect((await ledger(azure)).map((row) => row.provider)).toEqual(['azure', 'azure']);
  });

  it('runs a batch on Anthropic Message Batches, the structured answer read from its tool', async () => {
    echoWords();
    const anthropic = await openInfra('anthropic');
    const id = await anthropic.jobs.enqueueBatch(translate, [{ word: 'uno' }, { word: 'dos' }], { pollIntervalMs: 10 });
    const worker = anthropic.jobs.work();
    const batch = await anthropic.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch).toMatchObject({ state: 'completed', provider: 'anthropic', counts: { succeeded: 2, failed: 0 } });
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'UNO' }, { word: 'DOS' }]);
    const create = fake.requests.find((request) => request.path === '/v1/messages/batches');
    expect(create).toBeDefined();
    const requests = (create!.body as { requests: Array<{ custom_id: string; params: { model: string; max_tokens: number } }> }).requests;
    expect(requests.map((request) => request.custom_id)).toEqual(['item-0', 'item-1']);
    expect(requests[0]?.params.model).toBe('claude-haiku-4-5');
    // claude-haiku-4-5 lists at 1 / 5 USD per million tokens.
    const rows = await ledger(anthropic);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.cost_usd).toBeCloseTo(((100 * 1 + 10 * 5) / 1_000_000) * 0.5, 12);
  });

  it('reports a line that failed at the provider with its error, and a schema-invalid answer as invalid_output', async () => {
    fake.setHandler((request) => {
      const text = JSON.stringify(request.body);
      if (text.includes('Translate bad.')) return { type: 'error', status: 400, message: 'This line is refused.' };
      if (text.includes('Translate odd.')) return { type: 'answer', content: 'not json' };
      return { type: 'answer', json: { word: 'ok' } };
    });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'good' }, { word: 'bad' }, { word: 'odd' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('completed');
    expect(batch.counts).toEqual({ succeeded: 1, failed: 2 });
    expect(batch.items?.[0]).toMatchObject({ ok: true, data: { word: 'ok' } });
    expect(batch.items?.[1]).toMatchObject({ ok: false, error: { code: 'invalid_request_error' } });
    expect(batch.items?.[1]?.error?.message).toContain('This line is refused.');
    expect(batch.items?.[2]).toMatchObject({ ok: false, content: 'not json', error: { code: 'invalid_output' } });
    expect((await ledger(infra)).map((row) => row.outcome).sort()).toEqual(['invalid_output', 'invalid_request_error', 'success']);
  });

  it('retries a 500 and a 429 on create, and fails the batch clearly on a 400', async () => {
    fake.batches.failCreate({ status: 500, message: 'upstream broke' }, { status: 429, message: 'slow down', retryAfter: 0 });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'x' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    expect((await infra.jobs.waitBatch(id, { pollIntervalMs: 20 })).state).toBe('completed');
    expect(fake.requests.filter((request) => request.path === '/v1/batches' && request.method === 'POST')).toHaveLength(3);

    fake.batches.failCreate({ status: 400, message: 'model not batchable' });
    const refused = await infra.jobs.enqueueBatch(translate, [{ word: 'y' }], { pollIntervalMs: 10 });
    const failed = await infra.jobs.waitBatch(refused, { pollIntervalMs: 20 });
    await worker.stop();
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain('400');
    expect(failed.error).toContain('model not batchable');
    expect(failed.items).toEqual([{ index: 0, id: '0', ok: false, error: { code: 'batch_failed', message: failed.error } }]);
  }, 30_000);

  it.each(['failed', 'expired'] as const)('reports a batch that %s, every item with its outcome', async (end) => {
    echoWords();
    fake.batches.endNext(end);
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }, { word: 'c' }, { word: 'd' }], {
      pollIntervalMs: 10,
    });
    const worker = infra.jobs.work();
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe(end);
    expect(batch.items).toHaveLength(4);
    if (end === 'failed') {
      expect(batch.error).toContain('failed validation');
      for (const item of batch.items ?? []) expect(item.error?.code).toBe('batch_failed');
    } else {
      expect(batch.items?.map((item) => item.ok)).toEqual([true, true, false, false]);
      expect(batch.items?.[3]?.error?.code).toBe('batch_expired');
    }
    expect(await ledger(infra)).toHaveLength(4);
  });

  it('cancels a batch at the provider: items answered before are kept, the others reported cancelled', async () => {
    echoWords();
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    while ((await infra.jobs.getBatch(id))?.providerBatchId === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('cancelled');
    expect(batch.items?.map((item) => item.ok)).toEqual([true, false]);
    expect(batch.items?.[1]?.error?.code).toBe('batch_cancelled');
    expect(await infra.jobs.cancelBatch(id)).toBe(false);
    expect(fake.requests.some((request) => request.path.endsWith('/cancel'))).toBe(true);
  });

  it('cancels a batch before it is submitted: nothing reaches the provider', async () => {
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { pollIntervalMs: 10 });
    expect(await infra.jobs.cancelBatch(id)).toBe(true);
    const batch = await infra.jobs.getBatch(id);
    expect(batch?.state).toBe('cancelled');
    expect(batch?.items?.[0]?.error?.code).toBe('batch_cancelled');
    expect(fake.requests).toHaveLength(0);
  });

  it('survives a restart in the middle: a new instance on the same database finishes it, with each ledger row once', async () => {
    echoWords();
    fake.batches.settings.manual = true;
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }, { word: 'c' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    while ((await infra.jobs.getBatch(id))?.providerBatchId === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    await worker.stop();
    await infra.close();
    opened.splice(opened.indexOf(infra), 1);

    const second = await openInfra();
    expect((await second.jobs.getBatch(id))?.state).toBe('in_progress');
    fake.batches.complete();
    const again = second.jobs.work({ prompts: [translate] });
    const batch = await second.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    // Give any duplicate step a chance to run before counting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await again.stop();
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'A' }, { word: 'B' }, { word: 'C' }]);
    expect(await ledger(second)).toHaveLength(3);
    expect(fake.batches.ids).toHaveLength(1);
  }, 30_000);

  it.each(['openai', 'azure'] as const)(
    'adopts the batch a lost submit answer left on %s: one provider batch, one set of ledger rows',
    async (provider) => {
      echoWords();
      const instance = provider === 'openai' ? infra : await openInfra('azure');
      // The provider makes the batch, but the connection breaks before its answer: the submit step fails and runs again.
      fake.batches.loseCreateAnswer();
      const id = await instance.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 10 });
      const worker = instance.jobs.work();
      const batch = await instance.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
      // Give any duplicate step a chance to run before counting.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await worker.stop();
      expect(batch.state).toBe('completed');
      expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'A' }, { word: 'B' }]);
      expect(fake.batches.ids).toHaveLength(1);
      expect(batch.providerBatchId).toBe(fake.batches.ids[0]);
      expect(await ledger(instance)).toHaveLength(2);
      const batches = provider === 'openai' ? '/v1/batches' : '/openai/batches';
      expect(fake.requests.filter((request) => request.path === batches && request.method === 'POST')).toHaveLength(1);
      // The second run looked for it by its metadata before sending anything.
      expect(fake.requests.filter((request) => request.path === batches && request.method === 'GET')).toHaveLength(1);
      expect(logLines.some((line) => line.includes('adopting it') && line.includes(id))).toBe(true);
    },
    30_000,
  );

  it('adopts the batch of a worker killed after the provider accepted it, before its step committed', async () => {
    echoWords();
    // A step's lease is its timeout plus 2 s: the killed worker's submit is released 3 s after it began.
    const instance = await openInfra('openai', { JOBS_TIMEOUT_MS: '1000' });
    const id = await instance.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 10 });
    fake.batches.holdCreateAnswer();
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, FLEET_WORKER], {
      env: {
        PATH: process.env.PATH ?? '',
        ...envFor('openai', database.url),
        DATABASE_URL: database.url,
        LLM_CACHE: 'off',
        JOBS_POLL_INTERVAL_MS: '50',
        JOBS_SCHEMA: 'batch_test',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (fake.batches.ids.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fake.batches.ids).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect((await instance.jobs.getBatch(id))?.state).toBe('submitting');
    const worker = instance.jobs.work();
    const batch = await instance.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.stop();
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'A' }, { word: 'B' }]);
    expect(fake.batches.ids).toHaveLength(1);
    expect(batch.providerBatchId).toBe(fake.batches.ids[0]);
    expect(await ledger(instance)).toHaveLength(2);
    expect(logLines.some((line) => line.includes('adopting it') && line.includes(id))).toBe(true);
  }, 60_000);

  it('sends the batch when looking for an earlier run’s is refused (403), logging it, instead of failing the batch', async () => {
    echoWords();
    // The first submit's answer is lost, so the step runs again and looks for it; that listing is refused.
    fake.batches.loseCreateAnswer();
    fake.batches.failList({ status: 403, message: `This key may not list batches (${KEY})` });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    const batch = await infra.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.stop();
    expect(batch.state).toBe('completed');
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'A' }, { word: 'B' }]);
    // The duplicate a refused listing cannot rule out: the lost one and the one sent again.
    expect(fake.batches.ids).toHaveLength(2);
    expect(batch.providerBatchId).toBe(fake.batches.ids[1]);
    const logged = logLines.filter((line) => line.includes('could not look for a batch') && line.includes(id));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('403');
    expect(logLines.join('\n')).not.toContain(KEY);
  }, 30_000);

  it('finds nothing to adopt on Anthropic, whose Message Batches carry no marker: a lost submit answer is sent again', async () => {
    echoWords();
    const anthropic = await openInfra('anthropic');
    fake.batches.loseCreateAnswer();
    const id = await anthropic.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { pollIntervalMs: 10 });
    const worker = anthropic.jobs.work();
    const batch = await anthropic.jobs.waitBatch<{ word: string }>(id, { pollIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.stop();
    expect(batch.items?.map((item) => item.data)).toEqual([{ word: 'A' }, { word: 'B' }]);
    // The duplicate window the README names: two batches at the provider, the ledger still once.
    expect(fake.batches.ids).toHaveLength(2);
    expect(batch.providerBatchId).toBe(fake.batches.ids[1]);
    expect(await ledger(anthropic)).toHaveLength(2);
  }, 30_000);

  it('attributes every item ledger row to the tenant given, and refuses an unknown tenant', async () => {
    echoWords();
    const { key } = await infra.tenants.repository.createKey({ name: 'customer-7' });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { tenant: 'customer-7', pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect((await ledger(infra)).map((row) => row.key_id)).toEqual([key.id, key.id]);
    await expect(infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { tenant: 'nobody' })).rejects.toThrow();
  });

  it('refuses bad input naming every problem, and a provider without a Batch API by name', async () => {
    const error = await infra.jobs
      .enqueueBatch(translate, [{ word: 'a' }, { word: 'b' }], { ids: ['x', 'x'], pollIntervalMs: -1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobInputError);
    expect((error as Error).message).toContain('ids must be unique');
    expect((error as Error).message).toContain('pollIntervalMs');
    await expect(infra.jobs.enqueueBatch(translate, [])).rejects.toThrow('non-empty');
    await expect(infra.jobs.enqueueBatch(translate, [{ word: 'a' }, {} as { word: string }])).rejects.toThrow('contexts[1]');
    const gemini = await openInfra('openai', { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'g-key' });
    await expect(gemini.jobs.enqueueBatch(translate, [{ word: 'a' }])).rejects.toThrow(BatchUnsupportedError);
    await expect(gemini.jobs.enqueueBatch(translate, [{ word: 'a' }])).rejects.toThrow(/gemini has no Batch API/);
  });

  it('keeps the provider key out of job rows, batch errors and logs', async () => {
    fake.batches.failCreate({ status: 400, message: `bad key ${KEY}` });
    const id = await infra.jobs.enqueueBatch(translate, [{ word: 'a' }], { pollIntervalMs: 10 });
    const worker = infra.jobs.work();
    const batch = await infra.jobs.waitBatch(id, { pollIntervalMs: 20 });
    await worker.stop();
    expect(batch.state).toBe('failed');
    expect(JSON.stringify(batch)).not.toContain(KEY);
    expect(JSON.stringify(await infra.jobs.list({ limit: 100 }))).not.toContain(KEY);
    expect(logLines.join('\n')).not.toContain(KEY);
    const table = target.engine === 'pg-boss' ? 'batch_test.job' : 'groundwork_jobs';
    const rows = await infra.db
      .selectFrom(table as never)
      .selectAll()
      .execute();
    expect(JSON.stringify(rows)).not.toContain(KEY);
  });
});
