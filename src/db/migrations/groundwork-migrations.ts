import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, type Migration, SqliteAdapter } from 'kysely';
import { groundworkTables } from '../groundwork-tables.js';
import { LATENCY_CLASS_COLUMNS, refillRollup, refillRollupTables } from '../usage-rollup.js';
import { NARROW_ROLLUPS } from '../usage-rollup-tables.js';

function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** The settings keys and teams share: metadata, allowed models, limits, budgets, state. */
function addTenantSettings<T extends CreateTableBuilder<string, never>>(table: T): T {
  return table
    .addColumn('metadata', 'jsonb')
    .addColumn('allowed_models', 'jsonb')
    .addColumn('rpm_limit', 'integer')
    .addColumn('tpm_limit', 'integer')
    .addColumn('max_concurrent', 'integer')
    .addColumn('budget_daily_usd', 'double precision')
    .addColumn('budget_monthly_usd', 'double precision')
    .addColumn('budget_total_usd', 'double precision')
    .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull()) as T;
}

/** Creates migration 0008's wide roll-up, `llm_usage_hourly` (empty), and its index. */
async function createWideRollup(db: Kysely<unknown>): Promise<void> {
  let table = db.schema
    .createTable('llm_usage_hourly')
    .addColumn('hour', 'bigint', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('prompt_name', 'text', (column) => column.notNull())
    .addColumn('prompt_version', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('team_id', 'text', (column) => column.notNull())
    .addColumn('outcome', 'text', (column) => column.notNull())
    .addColumn('calls', 'bigint', (column) => column.notNull())
    .addColumn('prompt_tokens', 'bigint', (column) => column.notNull())
    .addColumn('completion_tokens', 'bigint', (column) => column.notNull())
    .addColumn('total_tokens', 'bigint', (column) => column.notNull())
    .addColumn('cost_usd', 'double precision', (column) => column.notNull())
    .addColumn('latency_sum_ms', 'double precision', (column) => column.notNull());
  for (const column of LATENCY_CLASS_COLUMNS) table = table.addColumn(column, 'integer', (definition) => definition.notNull());
  await table
    .addColumn('first_ms', 'bigint', (column) => column.notNull())
    .addColumn('last_ms', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('llm_usage_hourly_pk', [
      'hour',
      'provider',
      'model',
      'prompt_name',
      'prompt_version',
      'key_id',
      'team_id',
      'outcome',
    ] as never)
    .execute();
  await db.schema.createIndex('llm_usage_hourly_key_idx').on('llm_usage_hourly').columns(['key_id', 'hour']).execute();
}

/**
 * Migration 0011's rule for when a spend counter may be deleted, frozen as it was: a day's or a
 * month's counter (`key|team:<id>:day:YYYY-MM-DD`, `…:month:YYYY-MM`) 54 hours after its UTC period
 * ends; undefined for any other counter, or a name that is not a real date, which is kept.
 */
function counterExpiryAt0011(counter: string): number | undefined {
  const match = /^(?:key|team):[^:]+:(?:day:(\d{4}-\d{2}-\d{2})|month:(\d{4})-(\d{2}))$/.exec(counter);
  if (match === null) return undefined;
  // As long as a batch's budget reservation may be held: 24 h window, 24 h poll interval, 6 h margin.
  const keepAfterPeriodMs = 54 * 3_600_000;
  const end =
    match[1] !== undefined
      ? new Date(`${match[1]}T00:00:00.000Z`).getTime() + 86_400_000
      : Number(match[3]) >= 1 && Number(match[3]) <= 12
        ? Date.UTC(Number(match[2]), Number(match[3]), 1)
        : Number.NaN;
  return Number.isFinite(end) ? end + keepAfterPeriodMs : undefined;
}

/** How many counters migration 0011 reads, and updates at once, per step of its backfill. */
const FILL_PAGE = 1000;

/**
 * Sets migration 0011's `expires_at` of the budget counters already there from their names (a day's
 * or a month's end): a page of counters at a time in the order of their key, each page's counters
 * updated by expiry, so the work and the memory grow linearly with the counters.
 */
async function fillCounterExpiry(db: Kysely<unknown>): Promise<void> {
  const tables = groundworkTables(db);
  let after: string | undefined;
  for (;;) {
    let page = tables
      .selectFrom('groundwork_budget_counters')
      .select('counter')
      .where((where) => where.or([where('counter', 'like', '%:day:%'), where('counter', 'like', '%:month:%')]))
      .orderBy('counter')
      .limit(FILL_PAGE);
    if (after !== undefined) page = page.where('counter', '>', after);
    const rows = await page.execute();
    if (rows.length === 0) return;
    after = (rows.at(-1) as { counter: string }).counter;
    const byExpiry = new Map<number, string[]>();
    for (const { counter } of rows) {
      const expiresAt = counterExpiryAt0011(counter);
      if (expiresAt === undefined) continue;
      const counters = byExpiry.get(expiresAt);
      if (counters === undefined) byExpiry.set(expiresAt, [counter]);
      else counters.push(counter);
    }
    for (const [expiresAt, counters] of byExpiry) {
      await tables
        .updateTable('groundwork_budget_counters')
        .set({ expires_at: new Date(expiresAt) })
        .where('counter', 'in', counters)
        .execute();
    }
  }
}

/**
 * Groundwork's own schema, applied before the application's migrations and tracked in its own
 * table (`groundwork_migration`), so the two never collide. Column types are spelled the
 * PostgreSQL way; on SQLite the declared types drive Groundwork's value mapping.
 */
export const GROUNDWORK_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_llm_usage': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('llm_usage')
        .addColumn('id', isSqlite(db) ? 'integer' : 'bigserial', (column) => column.primaryKey())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull())
        .addColumn('provider', 'text', (column) => column.notNull())
        .addColumn('model', 'text', (column) => column.notNull())
        .addColumn('prompt_name', 'text')
        .addColumn('prompt_version', 'text')
        .addColumn('prompt_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('completion_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('total_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('cached_prompt_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('reasoning_tokens', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('cost_usd', 'double precision', (column) => column.notNull().defaultTo(0))
        .addColumn('latency_ms', 'double precision', (column) => column.notNull().defaultTo(0))
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('cache_hit', 'boolean', (column) => column.notNull().defaultTo(false))
        .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(1))
        .addColumn('request_id', 'text')
        .execute();
      await db.schema.createIndex('llm_usage_created_at_idx').on('llm_usage').column('created_at').execute();
      await db.schema.createIndex('llm_usage_provider_model_idx').on('llm_usage').columns(['provider', 'model', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('llm_usage').execute();
    },
  },
  '0002_llm_usage_operation': {
    // Chat and embeddings share the ledger; rows written before this column existed were chat.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('llm_usage')
        .addColumn('operation', 'text', (column) => column.notNull().defaultTo('chat'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').dropColumn('operation').execute();
    },
  },
  '0003_tenants': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('groundwork_teams')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull().unique())
        .$call(addTenantSettings)
        .execute();
      await db.schema
        .createTable('groundwork_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull().unique())
        .addColumn('digest', 'text', (column) => column.notNull().unique())
        .addColumn('prefix', 'text', (column) => column.notNull())
        .addColumn('team_id', 'text', (column) => column.references('groundwork_teams.id'))
        .addColumn('expires_at', 'timestamptz')
        .addColumn('revoked_at', 'timestamptz')
        .$call(addTenantSettings)
        .execute();
      await db.schema.createIndex('groundwork_keys_team_idx').on('groundwork_keys').column('team_id').execute();
      await db.schema
        .createTable('groundwork_admin_audit')
        .addColumn('id', isSqlite(db) ? 'integer' : 'bigserial', (column) => column.primaryKey())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull())
        .addColumn('actor', 'text', (column) => column.notNull())
        .addColumn('action', 'text', (column) => column.notNull())
        .addColumn('target_type', 'text', (column) => column.notNull())
        .addColumn('target_id', 'text', (column) => column.notNull())
        .addColumn('details', 'jsonb')
        .execute();
      await db.schema.createIndex('groundwork_admin_audit_created_at_idx').on('groundwork_admin_audit').column('created_at').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('groundwork_admin_audit').execute();
      await db.schema.dropTable('groundwork_keys').execute();
      await db.schema.dropTable('groundwork_teams').execute();
    },
  },
  '0004_llm_usage_tenant': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Two statements: SQLite's ALTER TABLE adds one column at a time.
      await db.schema.alterTable('llm_usage').addColumn('key_id', 'text').execute();
      await db.schema.alterTable('llm_usage').addColumn('team_id', 'text').execute();
      await db.schema.createIndex('llm_usage_key_idx').on('llm_usage').columns(['key_id', 'created_at']).execute();
      await db.schema.createIndex('llm_usage_team_idx').on('llm_usage').columns(['team_id', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('llm_usage_team_idx').execute();
      await db.schema.dropIndex('llm_usage_key_idx').execute();
      await db.schema.alterTable('llm_usage').dropColumn('team_id').execute();
      await db.schema.alterTable('llm_usage').dropColumn('key_id').execute();
    },
  },
  '0005_budget_counters': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Amounts in nano-USD: whole numbers, so sums are exact.
      await db.schema
        .createTable('groundwork_budget_counters')
        .addColumn('counter', 'text', (column) => column.primaryKey())
        .addColumn('spent_nano', 'bigint', (column) => column.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('groundwork_budget_reservations')
        .addColumn('id', 'text', (column) => column.notNull())
        .addColumn('counter', 'text', (column) => column.notNull())
        .addColumn('amount_nano', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
        .addPrimaryKeyConstraint('groundwork_budget_reservations_pk', ['id', 'counter'])
        .execute();
      await db.schema
        .createIndex('groundwork_budget_reservations_counter_idx')
        .on('groundwork_budget_reservations')
        .columns(['counter', 'expires_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('groundwork_budget_reservations').execute();
      await db.schema.dropTable('groundwork_budget_counters').execute();
    },
  },
  '0006_jobs': {
    // The embedded job queue (PostgreSQL uses pg-boss's own schema), and which job a ledger row was spent on.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('groundwork_jobs')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('data', 'jsonb', (column) => column.notNull())
        .addColumn('state', 'text', (column) => column.notNull())
        .addColumn('priority', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('run_at', 'timestamptz', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('retry_limit', 'integer', (column) => column.notNull())
        .addColumn('retry_delay_ms', 'integer', (column) => column.notNull())
        .addColumn('retry_backoff', 'boolean', (column) => column.notNull())
        .addColumn('timeout_ms', 'integer', (column) => column.notNull())
        .addColumn('result_ttl_ms', 'integer')
        .addColumn('run_token', 'text')
        .addColumn('output', 'jsonb')
        .addColumn('created_at', 'timestamptz', (column) => column.notNull())
        .addColumn('started_at', 'timestamptz')
        .addColumn('completed_at', 'timestamptz')
        .addColumn('keep_until', 'timestamptz')
        .execute();
      await db.schema.createIndex('groundwork_jobs_due_idx').on('groundwork_jobs').columns(['state', 'priority', 'run_at']).execute();
      await db.schema.alterTable('llm_usage').addColumn('job_id', 'text').execute();
      await db.schema.createIndex('llm_usage_job_idx').on('llm_usage').column('job_id').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('llm_usage_job_idx').execute();
      await db.schema.alterTable('llm_usage').dropColumn('job_id').execute();
      await db.schema.dropTable('groundwork_jobs').execute();
    },
  },
  '0007_llm_usage_deployment': {
    // Which deployment of a model group answered (see Routing); null for calls not routed through a group.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').addColumn('deployment', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').dropColumn('deployment').execute();
    },
  },
  '0008_llm_usage_hourly': {
    // The dashboard's hourly roll-up of the ledger (see usage-rollup.ts), filled from the rows already there.
    async up(db: Kysely<unknown>): Promise<void> {
      await createWideRollup(db);
      await refillRollup(groundworkTables(db), undefined);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('llm_usage_hourly').execute();
    },
  },
  '0009_llm_usage_content': {
    // The prompt and answer text of a call, written only with LLM_LOG_CONTENT=true.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').addColumn('prompt_text', 'text').execute();
      await db.schema.alterTable('llm_usage').addColumn('answer_text', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('llm_usage').dropColumn('answer_text').execute();
      await db.schema.alterTable('llm_usage').dropColumn('prompt_text').execute();
    },
  },
  '0010_llm_usage_hourly_narrow': {
    // Narrow hourly roll-ups, one per kind of dashboard panel (see usage-rollup-tables.ts), filled from the ledger.
    async up(db: Kysely<unknown>): Promise<void> {
      const count = (column: ColumnDefinitionBuilder) => column.notNull();
      let model = db.schema
        .createTable('llm_usage_hourly_model')
        .addColumn('hour', 'bigint', count)
        .addColumn('provider', 'text', count)
        .addColumn('model', 'text', count)
        .addColumn('outcome', 'text', count)
        .addColumn('calls', 'bigint', count)
        .addColumn('prompt_tokens', 'bigint', count)
        .addColumn('completion_tokens', 'bigint', count)
        .addColumn('total_tokens', 'bigint', count)
        .addColumn('cost_usd', 'double precision', count)
        .addColumn('latency_sum_ms', 'double precision', count);
      for (const column of LATENCY_CLASS_COLUMNS) model = model.addColumn(column, 'integer', count);
      await model.addPrimaryKeyConstraint('llm_usage_hourly_model_pk', ['hour', 'provider', 'model', 'outcome'] as never).execute();
      await db.schema
        .createTable('llm_usage_hourly_key')
        .addColumn('hour', 'bigint', count)
        .addColumn('key_id', 'text', count)
        .addColumn('team_id', 'text', count)
        .addColumn('calls', 'bigint', count)
        .addColumn('failures', 'bigint', count)
        .addColumn('total_tokens', 'bigint', count)
        .addColumn('cost_usd', 'double precision', count)
        .addPrimaryKeyConstraint('llm_usage_hourly_key_pk', ['hour', 'key_id', 'team_id'] as never)
        .execute();
      await db.schema
        .createTable('llm_usage_hourly_prompt')
        .addColumn('hour', 'bigint', count)
        .addColumn('prompt_name', 'text', count)
        .addColumn('prompt_version', 'text', count)
        .addColumn('calls', 'bigint', count)
        .addColumn('failures', 'bigint', count)
        .addColumn('total_tokens', 'bigint', count)
        .addColumn('cost_usd', 'double precision', count)
        .addColumn('latency_sum_ms', 'double precision', count)
        .addColumn('first_ms', 'bigint', count)
        .addColumn('last_ms', 'bigint', count)
        .addPrimaryKeyConstraint('llm_usage_hourly_prompt_pk', ['hour', 'prompt_name', 'prompt_version'] as never)
        .execute();
      await refillRollupTables(groundworkTables(db), NARROW_ROLLUPS, undefined);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('llm_usage_hourly_prompt').execute();
      await db.schema.dropTable('llm_usage_hourly_key').execute();
      await db.schema.dropTable('llm_usage_hourly_model').execute();
    },
  },
  '0011_budget_counter_expiry': {
    // When a period's spend counter may be deleted; null for counters that are kept (total budgets, calls in flight).
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('groundwork_budget_counters').addColumn('expires_at', 'timestamptz').execute();
      await db.schema
        .createIndex('groundwork_budget_counters_expires_at_idx')
        .on('groundwork_budget_counters')
        .column('expires_at')
        .execute();
      await fillCounterExpiry(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('groundwork_budget_counters_expires_at_idx').execute();
      await db.schema.alterTable('groundwork_budget_counters').dropColumn('expires_at').execute();
    },
  },
  '0012_llm_usage_rollup_calls': {
    // The roll-ups counted a tool loop's continued turns as calls and as failures; refilled from the ledger, they count each call once.
    async up(db: Kysely<unknown>): Promise<void> {
      await refillRollupTables(groundworkTables(db), NARROW_ROLLUPS, undefined);
    },
    async down(): Promise<void> {
      // Nothing to undo: the refilled roll-ups are what the ledger holds, and the previous release reads them as they are.
    },
  },
};
