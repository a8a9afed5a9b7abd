import type { ConfigIssue } from '../errors/config-error.js';
import type { AppConfig, ProviderModel } from './app-config.js';
import { buildAppConfig, type SecretMap } from './build-app-config.js';
import {
  crossFieldIssues,
  databaseDialect,
  EMBEDDING_PROVIDERS,
  featureFlagKey,
  type Parsed,
  parseProviderModel,
  parseVariables,
} from './schema.js';
import type { Secret } from './secret.js';
import { isLocalHost } from './urls.js';
import { FEATURE_FLAG_PREFIX, type LlmProviderName, VARIABLES } from './variables.js';

/** The `sslmode` values of a PostgreSQL `DATABASE_URL`, as libpq names them. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

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

/**
 * Validates a flat environment (strings) and builds the frozen {@link AppConfig}.
 * Every problem is reported at once; messages never contain a secret's value.
 * `secrets` lets a reload keep the same {@link Secret} objects.
 */
export function parseEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  context: BuildContext,
  secrets: SecretMap = new Map(),
): ParsedEnvironment {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const input = Object.fromEntries(Object.keys(VARIABLES).map((name) => [name, env[name]]));
  const result = parseVariables(input);
  const success = result.issues.length === 0;
  for (const found of result.issues) errors.push(issue(found.variable, found.message));

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

  const values = result.values as Parsed;
  if (!success) {
    for (const found of crossFieldIssues(values)) {
      if (!errors.some((error) => error.variable === found.variable && error.message === found.message))
        errors.push(issue(found.variable, found.message));
    }
  }

  const provider = values.LLM_PROVIDER ?? 'openai';
  const providerChosen = env.LLM_PROVIDER !== undefined && env.LLM_PROVIDER.trim() !== '';
  // An unknown LLM_PROVIDER is one error; the credentials of a provider nobody chose are not another.
  const providerKnown = !providerChosen || values.LLM_PROVIDER !== undefined;
  const missing = providerKnown ? credentialsMissing(provider, values, context) : [];
  const llmConfigured = providerKnown && missing.length === 0;
  if (providerKnown && !llmConfigured) {
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
  // Embeddings: the provider named for them, and each fallback, need their credentials too.
  const embeddingNamed = values.LLM_EMBEDDING_PROVIDER?.toLowerCase();
  if (embeddingNamed !== undefined && (EMBEDDING_PROVIDERS as readonly string[]).includes(embeddingNamed)) {
    const embedding = embeddingNamed as LlmProviderName;
    for (const variable of embeddingCredentialsMissing(embedding, values, context)) {
      errors.push(issue(variable, `is required when LLM_EMBEDDING_PROVIDER=${embedding}`));
    }
  }
  for (const entry of values.LLM_EMBEDDING_FALLBACKS ?? []) {
    const fallback = parseProviderModel(entry);
    if (fallback === undefined || !EMBEDDING_PROVIDERS.includes(fallback.provider)) continue;
    for (const variable of embeddingCredentialsMissing(fallback.provider, values, context)) {
      errors.push(
        issue(variable, `is required by the embedding fallback ${fallback.provider}:${fallback.model} in LLM_EMBEDDING_FALLBACKS`),
      );
    }
  }
  const urlProblem = databaseUrlProblem(values.DATABASE_URL);
  if (urlProblem !== undefined) errors.push(issue('DATABASE_URL', urlProblem));
  if (errors.length > 0 || !success) return { config: undefined, errors, warnings };

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

  const config = buildAppConfig(
    values,
    {
      provider,
      llmConfigured,
      fallbacks,
      databaseUrl,
      dialect,
      featureFlags,
      logLevelSet: env.LOG_LEVEL !== undefined,
      isTty: context.isTty,
    },
    secrets,
  );
  return { config, errors, warnings };
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
    case 'gemini':
      if (values.GOOGLE_GENAI_USE_VERTEXAI === true) {
        return (['GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION'] as const).filter((name) => values[name] === undefined);
      }
      return values.GEMINI_API_KEY === undefined && values.GOOGLE_API_KEY === undefined ? ['GEMINI_API_KEY'] : [];
    case 'bedrock':
      return values.AWS_REGION === undefined ? ['AWS_REGION'] : [];
  }
}

/**
 * The credentials an embedding provider needs and lacks. No Azure deployment is needed: a fallback
 * names its own, and without `AZURE_OPENAI_EMBEDDING_DEPLOYMENT` each call names one (`model`, as
 * a `POST /v1/embeddings` body does); a call that names none is refused naming that variable.
 */
function embeddingCredentialsMissing(provider: LlmProviderName, values: Parsed, context: BuildContext): string[] {
  if (provider !== 'azure') return credentialsMissing(provider, values, context);
  const missing: string[] = [];
  if (values.AZURE_OPENAI_API_KEY === undefined && !context.azureTokenProvider) missing.push('AZURE_OPENAI_API_KEY');
  if (values.AZURE_OPENAI_ENDPOINT === undefined) missing.push('AZURE_OPENAI_ENDPOINT');
  return missing;
}

/** What is wrong with a PostgreSQL `DATABASE_URL` that would only show when connecting: not a URL, an unknown `sslmode`. */
function databaseUrlProblem(url: string | undefined): string | undefined {
  if (url === undefined || databaseDialect(url) !== 'postgres') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode.toLowerCase())) {
    return `has an unknown sslmode "${sslmode.slice(0, 40)}"; use ${SSL_MODES.join(', ')}`;
  }
  return undefined;
}
