import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type Clock, systemClock } from '../internal/clock.js';
import { KnownModels } from './known-models.js';
import type { Logger } from './logger.js';

/*
 * prom-client is required when the first metrics object is built, not imported: importing
 * Groundwork (a CLI's --help, a module that only reads the config) does not load it and its
 * ~30 files.
 */
function promClient(): typeof import('prom-client') {
  return createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
}

/** Histogram buckets for LLM operation latency, in seconds (OpenTelemetry GenAI recommendation). */
export const LLM_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Histogram buckets for token counts (OpenTelemetry GenAI recommendation). */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Histogram buckets for time to first chunk/token and time per chunk/token, in seconds (OpenTelemetry GenAI recommendation). */
export const CHUNK_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Shortest time between two warnings that the budget gauges could not be read, in ms; failures in between are logged at debug. */
const BUDGET_READ_WARNING_INTERVAL_MS = 60_000;

/** Where {@link GroundworkMetrics.watchTenantBudgets} reports a read that failed. */
export interface BudgetGaugeOptions {
  /** Told of a failed read: a warning at most once per minute, the rest at debug. @default silent */
  logger?: Logger | undefined;
  /** Times the warnings. @default systemClock */
  clock?: Clock | undefined;
}

/** One budget of a key or team and what was spent against it in its period, for the budget gauges. */
export interface BudgetLevel {
  owner: 'key' | 'team';
  /** The key's or team's id (never the key itself). */
  id: string;
  period: 'day' | 'month' | 'total';
  limitUsd: number;
  spentUsd: number;
}

/**
 * Every metric Groundwork records, in one prom-client registry per instance. Labels never
 * hold prompt or answer text. Capabilities receive this object and record into it.
 */
export class GroundworkMetrics {
  readonly registry: Registry;
  /**
   * The models that get a `model` / `gen_ai_request_model` label of their own (and a circuit
   * breaker and rate-limit buckets); open until restricted, as `groundwork serve` does.
   */
  readonly models = new KnownModels();

  /** `gen_ai_client_operation_duration_seconds{gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model, error_type}` */
  readonly llmDuration: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'error_type'>;
  /** `gen_ai_client_token_usage{gen_ai_operation_name, gen_ai_provider_name, gen_ai_request_model, gen_ai_token_type}` (input|output) */
  readonly llmTokens: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'gen_ai_token_type'>;
  /** Calls by outcome (`success`, or the error code). */
  readonly llmCalls: Counter<'provider' | 'model' | 'outcome'>;
  /** Attempts a model group sent to each of its deployments, by outcome (`success` or the error's code); answered calls name the deployment. */
  readonly llmDeploymentAttempts: Counter<'group' | 'deployment' | 'provider' | 'model' | 'outcome'>;
  /** Retries scheduled. */
  readonly llmRetries: Counter<'provider' | 'model' | 'reason'>;
  /** Time spent waiting for a rate-limit permit, in seconds. */
  readonly rateLimitWait: Histogram<'provider' | 'model' | 'limit'>;
  /** Calls refused by Groundwork's own limits (`rate_limit`, `queue_full`, `queue_timeout`, `store_unavailable`). */
  readonly llmRefusals: Counter<'provider' | 'model' | 'reason'>;
  /** Failures of a shared store (Redis) by component (`rate_limit`, `breaker`, `cache`, `tenant_budget_gauges` …). */
  readonly storeFailures: Counter<'component'>;
  /** Breaker state: 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'provider' | 'model'>;
  /** Breaker transitions. */
  readonly breakerTransitions: Counter<'provider' | 'model' | 'to'>;
  /** Calls in flight per provider. */
  readonly llmInFlight: Gauge<'provider'>;
  /** Cache lookups by result (`hit`, `miss`, `shared` for single flight, `error`). */
  readonly cacheLookups: Counter<'result'>;
  /** Cost of answered calls in USD (cache hits cost nothing). */
  readonly llmCost: Counter<'provider' | 'model'>;
  /** Cost of LLM calls in USD by virtual key (its id, never the key itself) and team. */
  readonly tenantSpend: Counter<'key_id' | 'team_id'>;
  /** `groundwork_tenant_budget_usd{owner,id,period}`: each budget's limit, read at each scrape (see {@link watchTenantBudgets}). */
  readonly tenantBudget: Gauge<'owner' | 'id' | 'period'>;
  /** `groundwork_tenant_budget_spent_usd{owner,id,period}`: what was spent against each budget in its period. */
  readonly tenantBudgetSpent: Gauge<'owner' | 'id' | 'period'>;
  #budgetLevels: (() => Promise<BudgetLevel[]>) | undefined;
  #budgetGaugeOptions: BudgetGaugeOptions = {};
  #budgetReadWarnedAt: number | undefined;
  #budgetReadFailuresSinceWarning = 0;
  /** Ledger rows written, dropped or failed. */
  readonly ledgerRows: Counter<'result'>;
  /** Database pool connections by state (`total`, `idle`, `waiting`). */
  readonly dbPool: Gauge<'state'>;
  /** Transaction duration in seconds by outcome (`commit`, `rollback`). */
  readonly dbTransactionDuration: Histogram<'outcome'>;
  /** Each read replica's lag behind the primary, in seconds (by `host:port/database`, never credentials). */
  readonly dbReplicaLag: Gauge<'replica'>;
  /** 1 while a read replica takes reads, 0 while it is skipped (behind, or unreachable). */
  readonly dbReplicaUp: Gauge<'replica'>;
  /** Read-only sessions and `dbRead` checkouts by where they ran: `replica`, `primary` (asked for), `primary_fallback` (no healthy replica). */
  readonly dbReads: Counter<'target' | 'replica'>;
  /** Reads run again elsewhere because their replica failed under them. */
  readonly dbReplicaRetries: Counter<'replica'>;
  /** HTTP requests served by `groundwork serve`. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** HTTP request duration, in seconds. */
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** Request fields dropped because a provider cannot honour them (`LLM_DROP_UNSUPPORTED_PARAMS=true`). */
  readonly droppedParams: Counter<'provider' | 'field'>;
  /** Answer fields a translated Responses API answer left out because a `Response` has no place for them (`audio`…). */
  readonly droppedAnswerFields: Counter<'provider' | 'field'>;
  /** Provider answers that reported no token usage, whose tokens (and cost) Groundwork estimated. */
  readonly estimatedUsage: Counter<'provider' | 'operation'>;
  /** `gen_ai_client_operation_time_to_first_chunk_seconds`: from the request to the first streamed chunk. */
  readonly llmTimeToFirstChunk: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model'>;
  /** `gen_ai_client_operation_time_per_output_chunk_seconds`: between streamed chunks after the first. */
  readonly llmTimePerOutputChunk: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model'>;
  /** `gen_ai_server_request_duration_seconds`: what `serve` took to answer a GenAI request. */
  readonly serverRequestDuration: Histogram<'gen_ai_operation_name' | 'gen_ai_request_model' | 'error_type'>;
  /** `gen_ai_server_time_to_first_token_seconds`: from the request to `serve`'s first streamed token. */
  readonly serverTimeToFirstToken: Histogram<'gen_ai_operation_name' | 'gen_ai_request_model'>;
  /** `gen_ai_server_time_per_output_token_seconds`: per output token after the first, for streams `serve` answered. */
  readonly serverTimePerOutputToken: Histogram<'gen_ai_operation_name' | 'gen_ai_request_model'>;

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = promClient();
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    this.llmDuration = new Histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'GenAI operation duration.',
      labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'],
      buckets: LLM_DURATION_BUCKETS,
      registers,
    });
    this.llmTokens = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per GenAI operation.',
      labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers,
    });
    const genAiLabels = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'] as const;
    this.droppedParams = new Counter({
      name: 'groundwork_llm_dropped_params_total',
      help: 'Request fields dropped because the provider cannot honour them.',
      labelNames: ['provider', 'field'],
      registers,
    });
    this.droppedAnswerFields = new Counter({
      name: 'groundwork_responses_dropped_answer_fields_total',
      help: 'Answer fields a translated Responses API answer left out because a Response has no place for them.',
      labelNames: ['provider', 'field'],
      registers,
    });
    this.estimatedUsage = new Counter({
      name: 'groundwork_llm_estimated_usage_total',
      help: 'Provider answers that reported no token usage, whose tokens and cost were estimated.',
      labelNames: ['provider', 'operation'],
      registers,
    });
    this.llmTimeToFirstChunk = new Histogram({
      name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
      help: 'Time from the GenAI request to the first streamed chunk.',
      labelNames: genAiLabels,
      buckets: CHUNK_BUCKETS,
      registers,
    });
    this.llmTimePerOutputChunk = new Histogram({
      name: 'gen_ai_client_operation_time_per_output_chunk_seconds',
      help: 'Time between streamed chunks after the first.',
      labelNames: genAiLabels,
      buckets: CHUNK_BUCKETS,
      registers,
    });
    this.serverRequestDuration = new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'GenAI server request duration.',
      labelNames: ['gen_ai_operation_name', 'gen_ai_request_model', 'error_type'],
      buckets: LLM_DURATION_BUCKETS,
      registers,
    });
    this.serverTimeToFirstToken = new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from the GenAI server request to its first streamed token.',
      labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'],
      buckets: CHUNK_BUCKETS,
      registers,
    });
    this.serverTimePerOutputToken = new Histogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Time per output token after the first, for streamed GenAI answers.',
      labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'],
      buckets: CHUNK_BUCKETS,
      registers,
    });
    this.llmCalls = new Counter({
      name: 'groundwork_llm_calls_total',
      help: 'LLM calls by outcome.',
      labelNames: ['provider', 'model', 'outcome'],
      registers,
    });
    this.llmDeploymentAttempts = new Counter({
      name: 'groundwork_llm_deployment_attempts_total',
      help: 'Attempts a model group routed to each deployment, by outcome.',
      labelNames: ['group', 'deployment', 'provider', 'model', 'outcome'],
      registers,
    });
    this.llmRetries = new Counter({
      name: 'groundwork_llm_retries_total',
      help: 'LLM attempts retried.',
      labelNames: ['provider', 'model', 'reason'],
      registers,
    });
    this.rateLimitWait = new Histogram({
      name: 'groundwork_llm_rate_limit_wait_seconds',
      help: 'Time waited for a rate-limit permit.',
      labelNames: ['provider', 'model', 'limit'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.llmRefusals = new Counter({
      name: 'groundwork_llm_refusals_total',
      help: 'Calls refused by Groundwork limits.',
      labelNames: ['provider', 'model', 'reason'],
      registers,
    });
    this.storeFailures = new Counter({
      name: 'groundwork_store_failures_total',
      help: 'Failures of a shared store (Redis, or a sweep of the database budget counters, or a read of the budget gauges) by component.',
      labelNames: ['component'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'groundwork_llm_circuit_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: 'groundwork_llm_circuit_transitions_total',
      help: 'Circuit breaker transitions.',
      labelNames: ['provider', 'model', 'to'],
      registers,
    });
    this.llmInFlight = new Gauge({ name: 'groundwork_llm_in_flight', help: 'LLM calls in flight.', labelNames: ['provider'], registers });
    this.cacheLookups = new Counter({
      name: 'groundwork_llm_cache_lookups_total',
      help: 'Response cache lookups by result.',
      labelNames: ['result'],
      registers,
    });
    this.llmCost = new Counter({
      name: 'groundwork_llm_cost_usd_total',
      help: 'Cost of LLM calls in USD.',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.tenantSpend = new Counter({
      name: 'groundwork_tenant_spend_usd_total',
      help: 'Cost of LLM calls in USD by virtual key id and team id.',
      labelNames: ['key_id', 'team_id'],
      registers,
    });
    // One read per scrape, shared by both budget gauges; a failed read leaves them out rather than
    // failing the scrape, and is counted and logged.
    let levels: Promise<BudgetLevel[]> | undefined;
    const readLevels = (): Promise<BudgetLevel[]> => {
      const read = this.#budgetLevels;
      if (read === undefined) return Promise.resolve([]);
      levels ??= read()
        .catch((error: unknown) => {
          this.#budgetReadFailed(error);
          return [];
        })
        .finally(() => setTimeout(() => (levels = undefined), 0).unref());
      return levels;
    };
    const budgetGauge = (name: string, help: string, value: (level: BudgetLevel) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['owner', 'id', 'period'],
        registers,
        async collect() {
          const current = await readLevels();
          this.reset();
          for (const level of current) this.set({ owner: level.owner, id: level.id, period: level.period }, value(level));
        },
      });
    this.tenantBudget = budgetGauge(
      'groundwork_tenant_budget_usd',
      'Budget of a virtual key or team in USD, by period.',
      (level) => level.limitUsd,
    );
    this.tenantBudgetSpent = budgetGauge(
      'groundwork_tenant_budget_spent_usd',
      'Spent against a budget of a virtual key or team in its period, USD (from the usage ledger).',
      (level) => level.spentUsd,
    );
    this.ledgerRows = new Counter({
      name: 'groundwork_llm_ledger_rows_total',
      help: 'Usage ledger rows by result: written; failed (a write failed, e.g. the database was down); refused (the database refused the row itself, the rest of its batch written); dropped (buffer full, or recorded after close).',
      labelNames: ['result'],
      registers,
    });
    this.dbPool = new Gauge({
      name: 'groundwork_db_pool_connections',
      help: 'Database pool connections by state.',
      labelNames: ['state'],
      registers,
    });
    this.dbReplicaLag = new Gauge({
      name: 'groundwork_db_replica_lag_seconds',
      help: 'Read replica lag behind the primary, in seconds, as last measured.',
      labelNames: ['replica'],
      registers,
    });
    this.dbReplicaUp = new Gauge({
      name: 'groundwork_db_replica_up',
      help: '1 while a read replica takes reads, 0 while it is skipped (lagging, unreachable, or not a standby).',
      labelNames: ['replica'],
      registers,
    });
    this.dbReads = new Counter({
      name: 'groundwork_db_reads_total',
      help: 'Read-only sessions and dbRead checkouts by target (replica, primary, primary_fallback).',
      labelNames: ['target', 'replica'],
      registers,
    });
    this.dbReplicaRetries = new Counter({
      name: 'groundwork_db_replica_retries_total',
      help: 'Reads run again elsewhere because their replica failed under them.',
      labelNames: ['replica'],
      registers,
    });
    this.dbTransactionDuration = new Histogram({
      name: 'groundwork_db_transaction_duration_seconds',
      help: 'Transaction duration by outcome.',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'groundwork_http_requests_total',
      help: 'HTTP requests served.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'groundwork_http_request_duration_seconds',
      help: 'HTTP request duration.',
      labelNames: ['method', 'route'],
      buckets: LLM_DURATION_BUCKETS,
      registers,
    });
    if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'groundwork_' });
  }

  /**
   * Publishes the budgets `read` answers as `groundwork_tenant_budget_usd` and
   * `groundwork_tenant_budget_spent_usd`, read at each scrape (the dashboard does so when keys are on).
   * A read that fails leaves them out of that scrape, counted in
   * `groundwork_store_failures_total{component="tenant_budget_gauges"}` and logged to `options.logger`.
   */
  watchTenantBudgets(read: () => Promise<BudgetLevel[]>, options: BudgetGaugeOptions = {}): void {
    this.#budgetLevels = read;
    this.#budgetGaugeOptions = options;
  }

  /** Counts every failed read as `groundwork_store_failures_total{component="tenant_budget_gauges"}`; warns at most once a minute, the rest at debug. */
  #budgetReadFailed(error: unknown): void {
    this.storeFailures.inc({ component: 'tenant_budget_gauges' });
    const { logger, clock = systemClock } = this.#budgetGaugeOptions;
    const now = clock.now();
    const message = 'Reading the tenant budgets for their gauges failed; this scrape leaves them out. Check the database.';
    if (this.#budgetReadWarnedAt === undefined || now - this.#budgetReadWarnedAt >= BUDGET_READ_WARNING_INTERVAL_MS) {
      logger?.warn({ err: error, failuresSinceLastWarning: this.#budgetReadFailuresSinceWarning }, message);
      this.#budgetReadWarnedAt = now;
      this.#budgetReadFailuresSinceWarning = 0;
    } else {
      this.#budgetReadFailuresSinceWarning++;
      logger?.debug({ err: error }, message);
    }
  }
}
