import type { Insertable, Kysely } from 'kysely';
import type { GroundworkTables, LlmUsageTable } from '../db/groundwork-tables.js';
import { addToRollup } from '../db/usage-rollup.js';

/** A ledger row to insert; anything left out takes a plain default. */
export type SeedRow = Partial<Insertable<LlmUsageTable>> & { created_at: Date };

/** Inserts `rows` into `llm_usage` in batches, with defaults for the columns left out, and adds them to the hourly roll-ups, as the ledger's sink does. */
export async function insertUsage(db: Kysely<GroundworkTables>, rows: readonly SeedRow[]): Promise<void> {
  const complete = rows.map((row) => ({
    provider: 'openai',
    model: 'gpt-4o-mini',
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cached_prompt_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0,
    latency_ms: 0,
    outcome: 'success',
    attempts: 1,
    cache_hit: false,
    request_id: null,
    ...row,
  }));
  for (let start = 0; start < complete.length; start += 500) {
    const rows = complete.slice(start, start + 500);
    await db.transaction().execute(async (transaction) => {
      await transaction.insertInto('llm_usage').values(rows).execute();
      await addToRollup(transaction, rows);
    });
  }
}

const MODELS = [
  { provider: 'openai', model: 'gpt-4o-mini', input: 0.15e-6, output: 0.6e-6 },
  { provider: 'openai', model: 'gpt-4o', input: 2.5e-6, output: 10e-6 },
  { provider: 'anthropic', model: 'claude-3-5-haiku', input: 0.8e-6, output: 4e-6 },
  { provider: 'azure', model: 'gpt-4o-mini', input: 0.15e-6, output: 0.6e-6 },
];
const PROMPTS: Array<[string | null, string | null]> = [
  ['summarise', '1'],
  ['summarise', '2'],
  ['classify', '3'],
  ['extract-entities', '1'],
  [null, null],
];
const FAILURES = ['rate_limit_exceeded', 'provider_timeout', 'provider_server_error', 'circuit_open', 'budget_exceeded'];

/** A realistic ledger: `count` calls spread evenly over `[fromMs, toMs)`, the same for the same `seed`. */
export function syntheticLedger(options: {
  count: number;
  fromMs: number;
  toMs: number;
  keyIds?: readonly string[];
  seed?: number;
}): SeedRow[] {
  let state = options.seed ?? 42;
  const random = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
  const keys = options.keyIds ?? [];
  const span = options.toMs - options.fromMs;
  const rows: SeedRow[] = [];
  for (let index = 0; index < options.count; index++) {
    const target = MODELS[Math.floor(random() * random() * MODELS.length)] ?? MODELS[0];
    const [promptName, promptVersion] = PROMPTS[Math.floor(random() * PROMPTS.length)] ?? [null, null];
    const failed = random() < 0.05;
    const promptTokens = failed ? 0 : 200 + Math.floor(random() * 1800);
    const completionTokens = failed ? 0 : 20 + Math.floor(random() * 600);
    const cost = target === undefined ? 0 : promptTokens * target.input + completionTokens * target.output;
    // A long-tailed latency: most calls within a second or two, a few far slower.
    const latency = Math.round(250 + completionTokens * 2 + -Math.log(1 - random()) * 400);
    rows.push({
      created_at: new Date(options.fromMs + Math.floor((index / options.count) * span)),
      provider: target?.provider ?? 'openai',
      model: target?.model ?? 'gpt-4o-mini',
      prompt_name: promptName,
      prompt_version: promptVersion,
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      cost_usd: cost,
      latency_ms: latency,
      outcome: failed ? (FAILURES[Math.floor(random() * FAILURES.length)] ?? 'provider_server_error') : 'success',
      attempts: failed ? 1 + Math.floor(random() * 3) : 1,
      cache_hit: !failed && random() < 0.08,
      key_id: keys.length === 0 || random() < 0.1 ? null : (keys[Math.floor(random() * keys.length)] ?? null),
      request_id: `req_${index.toString(36)}`,
    });
  }
  return rows;
}
