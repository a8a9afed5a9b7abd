import { defaultEmbeddingModel, embeddingDimensions } from '../llm/embeddings/known-embedding-models.js';
import type { DatabaseDialect, ModelPrice, ProviderModel } from './app-config.js';
import type { FieldValue } from './fields.js';
import { FEATURE_FLAG_PREFIX, LLM_PROVIDERS, type LlmProviderName, VARIABLES, type VariableName } from './variables.js';

/** Every variable, parsed. */
export type Parsed = { [K in VariableName]: FieldValue<(typeof VARIABLES)[K]['field']> };

/** What is wrong with one variable. */
export interface VariableIssue {
  variable: string;
  message: string;
}

/** The outcome of {@link parseVariables}: every variable that parsed, and every problem. */
export interface ParsedVariables {
  /** Each valid variable's value (all of them when `issues` is empty). */
  values: Partial<Parsed>;
  /** Each invalid variable's problem, in the variables' order, then the rules that span several variables. */
  issues: VariableIssue[];
}

/**
 * The one schema: every variable's parser, then the rules that span several variables (checked
 * here only when every variable is valid; the caller checks them over what parsed otherwise).
 */
export function parseVariables(input: Readonly<Record<string, string | undefined>>): ParsedVariables {
  const values: Record<string, unknown> = {};
  const issues: VariableIssue[] = [];
  for (const [name, definition] of Object.entries(VARIABLES)) {
    const result = definition.field(input[name]);
    if (result.ok) values[name] = result.value;
    else issues.push({ variable: name, message: result.message });
  }
  if (issues.length === 0) issues.push(...crossFieldIssues(values as Parsed));
  return { values: values as Partial<Parsed>, issues };
}

/**
 * Rules that span several variables. Takes whatever parsed, so that they are checked even when
 * other variables are invalid: every problem is reported at once.
 */
export function crossFieldIssues(parsed: Partial<Parsed>): Array<{ variable: string; message: string }> {
  const found: Array<{ variable: string; message: string }> = [];
  const problem = (variable: string, message: string): void => {
    found.push({ variable, message });
  };
  const url = parsed.DATABASE_URL;
  if (url !== undefined && databaseDialect(url) === undefined) {
    problem('DATABASE_URL', 'must start with sqlite:, pglite:, postgres:// or postgresql://');
  }
  for (const found of replicaIssues(parsed)) problem(found.variable, found.message);
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
    problem(
      'LLM_PRICES',
      'must be a JSON object of model → {"input": number, "output": number, "cachedInput"?: number, "batch"?: number from 0 to 1}',
    );
  }
  for (const entry of parsed.LLM_FALLBACKS ?? []) {
    if (parseProviderModel(entry) === undefined) {
      problem('LLM_FALLBACKS', `entry "${entry}" must be provider:model with provider one of ${LLM_PROVIDERS.join(', ')}`);
    }
  }
  for (const issue of embeddingIssues(parsed)) problem(issue.variable, issue.message);
  if (parsed.AWS_ACCESS_KEY_ID !== undefined && parsed.AWS_SECRET_ACCESS_KEY === undefined && 'AWS_SECRET_ACCESS_KEY' in parsed) {
    problem('AWS_SECRET_ACCESS_KEY', 'must be set with AWS_ACCESS_KEY_ID');
  }
  if (parsed.AWS_SECRET_ACCESS_KEY !== undefined && parsed.AWS_ACCESS_KEY_ID === undefined && 'AWS_ACCESS_KEY_ID' in parsed) {
    problem('AWS_ACCESS_KEY_ID', 'must be set with AWS_SECRET_ACCESS_KEY');
  }
  return found;
}

/**
 * `DATABASE_REPLICA_URLS`: every entry a PostgreSQL URL, and only beside a PostgreSQL
 * `DATABASE_URL` (SQLite and PGlite have no replicas). Entries are named by position, never echoed.
 */
function replicaIssues(parsed: Partial<Parsed>): Array<{ variable: string; message: string }> {
  const urls = parsed.DATABASE_REPLICA_URLS ?? [];
  if (urls.length === 0) return [];
  const found: Array<{ variable: string; message: string }> = [];
  const primary = parsed.DATABASE_URL === undefined ? 'sqlite' : databaseDialect(parsed.DATABASE_URL);
  if (primary !== undefined && primary !== 'postgres' && 'DATABASE_URL' in parsed) {
    found.push({
      variable: 'DATABASE_REPLICA_URLS',
      message: `is set but DATABASE_URL is ${primary}; read replicas need a PostgreSQL DATABASE_URL (postgres://…)`,
    });
  }
  urls.forEach((url, index) => {
    let valid = databaseDialect(url) === 'postgres';
    if (valid) {
      try {
        new URL(url);
      } catch {
        valid = false;
      }
    }
    if (!valid) found.push({ variable: 'DATABASE_REPLICA_URLS', message: `entry ${index + 1} must be a postgres:// or postgresql:// URL` });
  });
  return found;
}

/** The providers with an embeddings API: every one but Anthropic. */
export const EMBEDDING_PROVIDERS: readonly LlmProviderName[] = LLM_PROVIDERS.filter((provider) => provider !== 'anthropic');

/** The embeddings' provider: `LLM_EMBEDDING_PROVIDER`, else the primary provider. */
export function embeddingProvider(parsed: Partial<Parsed>, primary: LlmProviderName = parsed.LLM_PROVIDER ?? 'openai'): LlmProviderName {
  const named = parsed.LLM_EMBEDDING_PROVIDER?.toLowerCase();
  return named !== undefined && (LLM_PROVIDERS as readonly string[]).includes(named) ? (named as LlmProviderName) : primary;
}

/**
 * The embedding settings' rules: a known provider, and fallbacks that return vectors as long as
 * the primary's (known from the model table or `LLM_EMBEDDING_DIMENSIONS`). A fallback whose
 * length cannot be told is refused too: vectors of two lengths in one index are a silent corruption.
 */
function embeddingIssues(parsed: Partial<Parsed>): Array<{ variable: string; message: string }> {
  const found: Array<{ variable: string; message: string }> = [];
  const named = parsed.LLM_EMBEDDING_PROVIDER;
  if (named !== undefined && !(EMBEDDING_PROVIDERS as readonly string[]).includes(named.toLowerCase())) {
    found.push({
      variable: 'LLM_EMBEDDING_PROVIDER',
      message:
        named.toLowerCase() === 'anthropic'
          ? `is anthropic, which has no embeddings API; use one of ${EMBEDDING_PROVIDERS.join(', ')}`
          : `must be one of ${EMBEDDING_PROVIDERS.join(', ')}`,
    });
  }
  const provider = embeddingProvider(parsed);
  const model =
    provider === 'azure' ? parsed.AZURE_OPENAI_EMBEDDING_DEPLOYMENT : (parsed.LLM_EMBEDDING_MODEL ?? defaultEmbeddingModel(provider));
  const requested = parsed.LLM_EMBEDDING_DIMENSIONS;
  const primary = model === undefined ? undefined : embeddingDimensions(model, requested);
  if (model !== undefined && requested !== undefined && primary !== requested) {
    found.push({ variable: 'LLM_EMBEDDING_DIMENSIONS', message: `is ${requested} but ${model} returns ${primary}-dimension vectors` });
  }
  for (const entry of parsed.LLM_EMBEDDING_FALLBACKS ?? []) {
    const fallback = parseProviderModel(entry);
    if (fallback === undefined) {
      found.push({
        variable: 'LLM_EMBEDDING_FALLBACKS',
        message: `entry "${entry}" must be provider:model with provider one of ${LLM_PROVIDERS.join(', ')}`,
      });
      continue;
    }
    if (!(EMBEDDING_PROVIDERS as readonly string[]).includes(fallback.provider)) {
      found.push({
        variable: 'LLM_EMBEDDING_FALLBACKS',
        message: `entry "${entry}": ${fallback.provider} has no embeddings API; use one of ${EMBEDDING_PROVIDERS.join(', ')}`,
      });
      continue;
    }
    const length = embeddingDimensions(fallback.model, requested);
    if (primary === undefined || length === undefined) {
      found.push({
        variable: 'LLM_EMBEDDING_FALLBACKS',
        message: `cannot tell whether "${entry}" returns vectors as long as ${model ?? 'the primary embedding model'}'s; set LLM_EMBEDDING_DIMENSIONS`,
      });
    } else if (length !== primary) {
      found.push({
        variable: 'LLM_EMBEDDING_FALLBACKS',
        message: `"${entry}" returns ${length}-dimension vectors, ${model} ${primary}: a fallback must not change the vectors' length`,
      });
    }
  }
  return found;
}

/** Which dialect a `DATABASE_URL` names, or undefined when none. */
export function databaseDialect(url: string): DatabaseDialect | undefined {
  if (/^sqlite:/i.test(url)) return 'sqlite';
  if (/^pglite:/i.test(url)) return 'pglite';
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  return undefined;
}

/**
 * `LLM_PRICES`: a JSON object of model → `{ input, output, cachedInput?, batch? }`, prices at least 0
 * and `batch` a share from 0 to 1; other fields are ignored. Undefined when it is not that.
 */
export function parsePrices(raw: string): Record<string, ModelPrice> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  // No prototype: a model named `__proto__` (or `constructor`) is a key like any other, never the object's prototype.
  const prices: Record<string, ModelPrice> = Object.create(null) as Record<string, ModelPrice>;
  for (const [model, value] of Object.entries(parsed)) {
    if (!isPlainObject(value)) return undefined;
    const { input, output, cachedInput, batch } = value;
    if (!isPrice(input) || !isPrice(output)) return undefined;
    if (cachedInput !== undefined && !isPrice(cachedInput)) return undefined;
    if (batch !== undefined && !(isPrice(batch) && batch <= 1)) return undefined;
    prices[model] = {
      input,
      output,
      ...(cachedInput === undefined ? {} : { cachedInput }),
      ...(batch === undefined ? {} : { batch }),
    };
  }
  return prices;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrice(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export function parseProviderModel(entry: string): ProviderModel | undefined {
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
