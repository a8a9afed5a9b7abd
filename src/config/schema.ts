import { z } from 'zod';
import type { ConfigIssue } from '../errors/config-error.js';
import type { AppConfig, DatabaseDialect, LoggingConfig, ModelPrice, ProviderModel } from './app-config.js';
import { Secret } from './secret.js';
import { isLocalHost, maskUrlCredentials } from './urls.js';
import { FEATURE_FLAG_PREFIX, LLM_PROVIDERS, type LlmProviderName, VARIABLES, type VariableName } from './variables.js';

type Parsed = { [K in VariableName]: z.output<(typeof VARIABLES)[K]['field']> };

/** The one schema: every variable's parser, then the rules that span several variables. */
export const environmentSchema = z
  .object(
    Object.fromEntries(Object.entries(VARIABLES).map(([name, definition]) => [name, definition.field])) as {
      [K in VariableName]: (typeof VARIABLES)[K]['field'];
    },
  )
  .superRefine((values, context) => {
    for (const found of crossFieldIssues(values as Parsed))
      context.addIssue({ code: 'custom', path: [found.variable], message: found.message });
  });

/**
 * Rules that span several variables. Takes whatever parsed, so that they are checked even when
 * other variables are invalid: every problem is reported at once.
 */
function crossFieldIssues(parsed: Partial<Parsed>): Array<{ variable: string; message: string }> {
  const found: Array<{ variable: string; message: string }> = [];
  const problem = (variable: string, message: string): void => {
    found.push({ variable, message });
  };
  const url = parsed.DATABASE_URL;
  if (url !== undefined && databaseDialect(url) === undefined) {
    problem('DATABASE_URL', 'must start with sqlite:, pglite:, postgres:// or postgresql://');
  }
  if (parsed.REDIS_URL !== undefined && !/^rediss?:\/\//i.test(parsed.REDIS_URL)) {
    problem('REDIS_URL', 'must start with redis:// or rediss://');
  }
  if (parsed.LLM_CACHE === 'redis' && parsed.REDIS_URL === undefined && 'REDIS_URL' in parsed) {
    problem('LLM_CACHE', 'is redis but REDIS_URL is not set');
  }
  if (parsed.LLM_RETRY_MIN_MS !== undefined && parsed.LLM_RETRY_MAX_MS !== undefined && parsed.LLM_RETRY_MIN_MS > parsed.LLM_RETRY_MAX_MS) {
    problem('LLM_RETRY_MIN_MS', `must not exceed LLM_RETRY_MAX_MS (${parsed.LLM_RETRY_MAX_MS})`);
  }
  if (parsed.LLM_PRICES !== undefined && parsePrices(parsed.LLM_PRICES) === undefined) {
    problem('LLM_PRICES', 'must be a JSON object of model → {"input": number, "output": number, "cachedInput"?: number}');
  }
  for (const entry of parsed.LLM_FALLBACKS ?? []) {
    if (parseProviderModel(entry) === undefined) {
      problem('LLM_FALLBACKS', `entry "${entry}" must be provider:model with provider one of ${LLM_PROVIDERS.join(', ')}`);
    }
  }
  return found;
}

/** Parses each variable on its own, keeping those that are valid (used to check the rest when some fail). */
function parsePartially(input: Record<string, string | undefined>): Partial<Parsed> {
  const partial: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(VARIABLES)) {
    const result = definition.field.safeParse(input[name]);
    if (result.success) partial[name] = result.data;
  }
  return partial as Partial<Parsed>;
}

/** Which dialect a `DATABASE_URL` names, or undefined when none. */
export function databaseDialect(url: string): DatabaseDialect | undefined {
  if (/^sqlite:/i.test(url)) return 'sqlite';
  if (/^pglite:/i.test(url)) return 'pglite';
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  return undefined;
}

function parsePrices(raw: string): Record<string, ModelPrice> | undefined {
  const price = z.object({ input: z.number().min(0), output: z.number().min(0), cachedInput: z.number().min(0).optional() });
  try {
    const result = z.record(z.string(), price).safeParse(JSON.parse(raw));
    if (!result.success) return undefined;
    return Object.fromEntries(
      Object.entries(result.data).map(([model, value]) => [
        model,
        value.cachedInput === undefined
          ? { input: value.input, output: value.output }
          : { input: value.input, output: value.output, cachedInput: value.cachedInput },
      ]),
    );
  } catch {
    return undefined;
  }
}

function parseProviderModel(entry: string): ProviderModel | undefined {
  const colon = entry.indexOf(':');
  if (colon <= 0 || colon === entry.length - 1) return undefined;
  const provider = entry.slice(0, colon).trim().toLowerCase();
  const model = entry.slice(colon + 1).trim();
  if (!(LLM_PROVIDERS as readonly string[]).includes(provider) || model === '') return undefined;
  return { provider: provider as LlmProviderName, model };
}

/** `FEATURE_FLAG_NEW_UI` → `newUi`. */
export function featureFlagKey(variable: string): string {
  return variable
    .slice(FEATURE_FLAG_PREFIX.length)
    .toLowerCase()
    .replace(/_+([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase())
    .replace(/_+$/, '');
}

const LEVELS: Record<string, LoggingConfig['level']> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

/** Context for building the config that does not come from the environment. */
export interface BuildContext {
  /** A token provider was given in code for Azure, so no key is needed. */
  azureTokenProvider: boolean;
  /** Whether stdout is a terminal (for `LOG_FORMAT=auto`). */
  isTty: boolean;
}

/** The result of checking an environment: a config when valid, and every problem found. */
export interface ParsedEnvironment {
  config: AppConfig | undefined;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

function example(variable: string): string | undefined {
  return (VARIABLES as Record<string, { example: string } | undefined>)[variable]?.example;
}

function issue(variable: string, message: string): ConfigIssue {
  const sample = example(variable);
  return sample === undefined ? { variable, message } : { variable, message, example: sample };
}

function secret(name: string, value: string | undefined, secrets: Map<string, Secret>): Secret | undefined {
  if (value === undefined) return undefined;
  const existing = secrets.get(name);
  if (existing !== undefined) {
    existing.replace(value);
    return existing;
  }
  const created = new Secret(name, value);
  secrets.set(name, created);
  return created;
}

/**
 * Validates a flat environment (strings) and builds the frozen {@link AppConfig}.
 * Every problem is reported at once; messages never contain a secret's value.
 * `secrets` lets a reload keep the same {@link Secret} objects.
 */
export function parseEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  context: BuildContext,
  secrets = new Map<string, Secret>(),
): ParsedEnvironment {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const input = Object.fromEntries(Object.keys(VARIABLES).map((name) => [name, env[name]]));
  const result = environmentSchema.safeParse(input);
  if (!result.success) {
    for (const zodIssue of result.error.issues) {
      const variable = String(zodIssue.path[0] ?? 'environment');
      errors.push(issue(variable, zodIssue.message));
    }
  }

  const featureFlags: Record<string, boolean> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(FEATURE_FLAG_PREFIX) || raw === undefined) continue;
    const key = featureFlagKey(name);
    const value = raw.trim().toLowerCase();
    if (key === '') errors.push({ variable: name, message: 'needs a flag name after FEATURE_FLAG_', example: 'FEATURE_FLAG_NEW_UI=true' });
    else if (['true', '1', 'yes', 'on'].includes(value)) featureFlags[key] = true;
    else if (['false', '0', 'no', 'off', ''].includes(value)) featureFlags[key] = false;
    else errors.push({ variable: name, message: 'must be true or false', example: 'true' });
  }

  const values = (result.success ? result.data : parsePartially(input)) as Parsed;
  if (!result.success) {
    for (const found of crossFieldIssues(values)) {
      if (!errors.some((error) => error.variable === found.variable && error.message === found.message))
        errors.push(issue(found.variable, found.message));
    }
  }

  const provider = values.LLM_PROVIDER ?? 'openai';
  const providerChosen = env.LLM_PROVIDER !== undefined && env.LLM_PROVIDER.trim() !== '';
  const missing = credentialsMissing(provider, values, context);
  const llmConfigured = missing.length === 0;
  if (!llmConfigured) {
    if (providerChosen) {
      for (const variable of missing) errors.push(issue(variable, `is required when LLM_PROVIDER=${provider}`));
    } else {
      warnings.push({
        variable: 'LLM_PROVIDER',
        message: `no LLM provider configured; set ${missing.join(' and ')} (or choose another LLM_PROVIDER) to enable LLM calls`,
        example: 'OPENAI_API_KEY=sk-…',
      });
    }
  }
  const fallbacks = (values.LLM_FALLBACKS ?? [])
    .map((entry) => parseProviderModel(entry))
    .filter((entry): entry is ProviderModel => entry !== undefined);
  for (const fallback of fallbacks) {
    for (const variable of credentialsMissing(fallback.provider, values, context)) {
      errors.push(issue(variable, `is required by the fallback ${fallback.provider}:${fallback.model} in LLM_FALLBACKS`));
    }
  }
  if (errors.length > 0 || !result.success) return { config: undefined, errors, warnings };

  const databaseUrl = values.DATABASE_URL ?? 'sqlite:./data/app.db';
  const dialect = databaseDialect(databaseUrl) ?? 'sqlite';
  const production = values.NODE_ENV === 'production';
  if (production && dialect !== 'postgres') {
    warnings.push(
      issue('DATABASE_URL', `uses the embedded ${dialect} database in production; point it at PostgreSQL so data is shared and durable`),
    );
  }
  if (production && values.DEBUG) warnings.push(issue('DEBUG', 'is on in production; it logs more than production should'));
  if (dialect === 'postgres') {
    try {
      const parsedUrl = new URL(databaseUrl);
      const sslmode = parsedUrl.searchParams.get('sslmode');
      if (!isLocalHost(parsedUrl.hostname) && (sslmode === null || sslmode === 'disable' || sslmode === 'prefer' || sslmode === 'allow')) {
        warnings.push(issue('DATABASE_URL', `connects to ${parsedUrl.hostname} without TLS; add sslmode=require or sslmode=verify-full`));
      }
    } catch {
      errors.push(issue('DATABASE_URL', 'is not a valid URL'));
      return { config: undefined, errors, warnings };
    }
  }
  if (production && values.GROUNDWORK_API_KEYS.length === 0) {
    warnings.push(issue('GROUNDWORK_API_KEYS', 'is empty in production; `groundwork serve` will listen on loopback only'));
  }

  const openaiModel = values.OPENAI_MODEL ?? 'gpt-4o-mini';
  const anthropicModel = values.ANTHROPIC_MODEL ?? 'claude-3-5-haiku-latest';
  const primaryModel =
    provider === 'anthropic' ? anthropicModel : provider === 'azure' ? (values.AZURE_OPENAI_DEPLOYMENT ?? openaiModel) : openaiModel;
  const logLevel = env.LOG_LEVEL === undefined && values.DEBUG ? 'debug' : (LEVELS[values.LOG_LEVEL] ?? 'info');
  const redisUrl = secret('REDIS_URL', values.REDIS_URL, secrets);

  const config: AppConfig = {
    env: values.NODE_ENV,
    debug: values.DEBUG,
    database: {
      url: secret('DATABASE_URL', databaseUrl, secrets) as Secret,
      dialect,
      displayUrl: maskUrlCredentials(databaseUrl),
      embedded: dialect !== 'postgres',
      poolSize: values.DB_POOL_SIZE,
      maxOverflow: values.DB_MAX_OVERFLOW,
      acquireTimeoutMs: values.DB_ACQUIRE_TIMEOUT_MS,
      idleTimeoutMs: values.DB_IDLE_TIMEOUT_MS,
      statementTimeoutMs: values.DB_STATEMENT_TIMEOUT_MS,
      sslCaPath: values.DB_SSL_CA,
      closeTimeoutMs: values.DB_CLOSE_TIMEOUT_MS,
      migrateOnStart: values.DB_MIGRATE_ON_START,
      migrationsDir: values.DB_MIGRATIONS_DIR,
    },
    llm: {
      provider,
      model: primaryModel,
      configured: llmConfigured,
      openai: {
        apiKey: secret('OPENAI_API_KEY', values.OPENAI_API_KEY, secrets),
        model: openaiModel,
        baseUrl: values.OPENAI_BASE_URL,
        organization: values.OPENAI_ORG_ID,
        project: values.OPENAI_PROJECT_ID,
      },
      azure: {
        apiKey: secret('AZURE_OPENAI_API_KEY', values.AZURE_OPENAI_API_KEY, secrets),
        endpoint: values.AZURE_OPENAI_ENDPOINT,
        deployment: values.AZURE_OPENAI_DEPLOYMENT,
        apiVersion: values.OPENAI_API_VERSION ?? '2024-10-21',
      },
      anthropic: {
        apiKey: secret('ANTHROPIC_API_KEY', values.ANTHROPIC_API_KEY, secrets),
        model: anthropicModel,
        baseUrl: values.ANTHROPIC_BASE_URL,
      },
      maxOutputTokens: values.LLM_MAX_OUTPUT_TOKENS,
      structuredOutputRepairs: values.LLM_STRUCTURED_OUTPUT_REPAIRS,
      prices: values.LLM_PRICES === undefined ? {} : (parsePrices(values.LLM_PRICES) ?? {}),
      streamFirstChunkTimeoutMs: values.LLM_STREAM_FIRST_CHUNK_TIMEOUT_MS,
      streamIdleTimeoutMs: values.LLM_STREAM_IDLE_TIMEOUT_MS,
      logContent: values.LLM_LOG_CONTENT,
      ledger: { enabled: values.LLM_LEDGER, batchSize: values.LLM_LEDGER_BATCH_SIZE, flushIntervalMs: values.LLM_LEDGER_FLUSH_MS },
    },
    resilience: {
      maxAttempts: values.LLM_MAX_ATTEMPTS,
      retryMinMs: values.LLM_RETRY_MIN_MS,
      retryMaxMs: values.LLM_RETRY_MAX_MS,
      retryAfterMaxMs: values.LLM_RETRY_AFTER_MAX_MS,
      timeoutMs: values.LLM_TIMEOUT_MS,
      deadlineMs: values.LLM_DEADLINE_MS,
      requestsPerMinute: values.LLM_REQUESTS_PER_MINUTE,
      tokensPerMinute: values.LLM_TOKENS_PER_MINUTE,
      rateLimitMaxWaitMs: values.LLM_RATE_LIMIT_MAX_WAIT_MS,
      onStoreFailure: values.LLM_RATE_LIMIT_ON_STORE_FAILURE,
      expectedReplicas: values.LLM_EXPECTED_REPLICAS,
      maxConcurrent: values.LLM_MAX_CONCURRENT,
      queueMax: values.LLM_QUEUE_MAX,
      queueTimeoutMs: values.LLM_QUEUE_TIMEOUT_MS,
      circuitFailureThreshold: values.LLM_CIRCUIT_FAILURE_THRESHOLD,
      circuitResetMs: values.LLM_CIRCUIT_RESET_MS,
      fallbacks,
    },
    cache: {
      mode: values.LLM_CACHE,
      ttlSeconds: values.LLM_CACHE_TTL_SECONDS,
      maxEntries: values.LLM_CACHE_MAX_ENTRIES,
      maxBytes: values.LLM_CACHE_MAX_BYTES,
      namespace: values.LLM_CACHE_NAMESPACE ?? 'default',
    },
    redis: {
      url: redisUrl,
      displayUrl: values.REDIS_URL === undefined ? undefined : maskUrlCredentials(values.REDIS_URL),
      keyPrefix: values.REDIS_KEY_PREFIX ?? 'groundwork:',
    },
    server: {
      port: values.PORT,
      host: values.HOST ?? (values.GROUNDWORK_API_KEYS.length > 0 ? '0.0.0.0' : '127.0.0.1'),
      apiKeys: values.GROUNDWORK_API_KEYS.map((key, index) => new Secret(`GROUNDWORK_API_KEYS[${index}]`, key)),
      bodyLimitBytes: values.SERVER_BODY_LIMIT_BYTES,
      shutdownTimeoutMs: values.SERVER_SHUTDOWN_TIMEOUT_MS,
      accessLog: values.SERVER_ACCESS_LOG,
    },
    logging: {
      level: logLevel,
      format: values.LOG_FORMAT === 'auto' ? (context.isTty ? 'pretty' : 'json') : values.LOG_FORMAT,
    },
    featureFlags,
  };
  return { config: deepFreeze(config), errors, warnings };
}

function credentialsMissing(provider: LlmProviderName, values: Parsed, context: BuildContext): string[] {
  switch (provider) {
    case 'openai':
      return values.OPENAI_API_KEY === undefined ? ['OPENAI_API_KEY'] : [];
    case 'anthropic':
      return values.ANTHROPIC_API_KEY === undefined ? ['ANTHROPIC_API_KEY'] : [];
    case 'openai-compatible':
      return values.OPENAI_BASE_URL === undefined ? ['OPENAI_BASE_URL'] : [];
    case 'azure': {
      const missing: string[] = [];
      if (values.AZURE_OPENAI_API_KEY === undefined && !context.azureTokenProvider) missing.push('AZURE_OPENAI_API_KEY');
      if (values.AZURE_OPENAI_ENDPOINT === undefined) missing.push('AZURE_OPENAI_ENDPOINT');
      if (values.AZURE_OPENAI_DEPLOYMENT === undefined) missing.push('AZURE_OPENAI_DEPLOYMENT');
      return missing;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || value instanceof Secret || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
