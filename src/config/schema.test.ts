import { describe, expect, it } from 'vitest';
import { parseEnvironment } from './parse-environment.js';
import { featureFlagKey, parsePrices } from './schema.js';
import { VARIABLES } from './variables.js';

const context = { azureTokenProvider: false, isTty: false };
const parse = (env: Record<string, string>) => parseEnvironment(env, context);

describe('parseEnvironment', () => {
  it('builds a valid, frozen config from an empty environment with every documented default', () => {
    const { config, errors } = parse({});
    expect(errors).toEqual([]);
    expect(config).toBeDefined();
    if (config === undefined) return;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(config.database.url.reveal()).toBe('sqlite:./data/app.db');
    expect(config.database).toMatchObject({
      dialect: 'sqlite',
      embedded: true,
      poolSize: 5,
      maxOverflow: 10,
      acquireTimeoutMs: 10_000,
      statementTimeoutMs: undefined,
      migrateOnStart: true,
    });
    expect(config.llm).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      configured: false,
      maxOutputTokens: undefined,
      outputTokensEstimate: 1024,
      dropUnsupportedParams: false,
      structuredOutputRepairs: 1,
    });
    expect(config.llm.azure.apiVersion).toBe('2024-10-21');
    expect(config.resilience).toMatchObject({
      maxAttempts: 3,
      retryMinMs: 2000,
      retryMaxMs: 10_000,
      retryAfterMaxMs: 60_000,
      requestsPerMinute: 2500,
      tokensPerMinute: undefined,
      maxConcurrent: 10,
      circuitFailureThreshold: 5,
      circuitResetMs: 60_000,
      fallbacks: [],
      onStoreFailure: 'local',
    });
    expect(config.cache).toMatchObject({ mode: 'memory', ttlSeconds: 3600, namespace: 'default' });
    expect(config.redis).toMatchObject({ url: undefined, keyPrefix: 'groundwork:' });
    expect(config.server).toMatchObject({ port: 8080, host: '127.0.0.1', apiKeys: [] });
    expect(config.logging).toEqual({ level: 'info', format: 'json' });
    expect(config.featureFlags).toEqual({});
  });

  it('parses every variable from its string form', () => {
    const { config, errors } = parse({
      NODE_ENV: 'test',
      DEBUG: 'yes',
      DATABASE_URL: 'postgresql://app:pw@localhost:5432/app',
      DB_POOL_SIZE: '12',
      DB_MAX_OVERFLOW: '0',
      DB_ACQUIRE_TIMEOUT_MS: '1_500',
      DB_STATEMENT_TIMEOUT_MS: '250',
      DB_MIGRATE_ON_START: 'false',
      LLM_PROVIDER: 'Anthropic',
      ANTHROPIC_API_KEY: 'sk-ant-test-key-0000',
      ANTHROPIC_MODEL: 'claude-x',
      LLM_TOKENS_PER_MINUTE: '90000',
      LLM_FALLBACKS: 'openai:gpt-4o, openai-compatible:llama3',
      OPENAI_API_KEY: 'sk-test-openai-0000000000',
      OPENAI_BASE_URL: 'http://localhost:11434/v1/',
      LLM_PRICES: '{"claude-x":{"input":1,"output":5}}',
      LLM_CACHE: 'REDIS',
      REDIS_URL: 'redis://:hunter2@127.0.0.1:6379/2',
      GROUNDWORK_API_KEYS: 'a-key-1, a-key-2',
      LOG_LEVEL: 'WARNING',
      LOG_FORMAT: 'pretty',
      FEATURE_FLAG_NEW_UI: 'true',
      FEATURE_FLAG_BETA_QUIZ_MODE: '0',
    });
    expect(errors).toEqual([]);
    if (config === undefined) throw new Error('expected a config');
    expect(config.env).toBe('test');
    expect(config.debug).toBe(true);
    expect(config.database).toMatchObject({
      dialect: 'postgres',
      embedded: false,
      poolSize: 12,
      maxOverflow: 0,
      acquireTimeoutMs: 1500,
      statementTimeoutMs: 250,
      migrateOnStart: false,
    });
    expect(config.database.displayUrl).toBe('postgresql://app:***@localhost:5432/app');
    expect(config.llm).toMatchObject({ provider: 'anthropic', model: 'claude-x', configured: true });
    expect(config.llm.openai.baseUrl).toBe('http://localhost:11434/v1');
    expect(config.llm.prices).toEqual({ 'claude-x': { input: 1, output: 5 } });
    expect(config.resilience.tokensPerMinute).toBe(90_000);
    expect(config.resilience.fallbacks).toEqual([
      { provider: 'openai', model: 'gpt-4o' },
      { provider: 'openai-compatible', model: 'llama3' },
    ]);
    expect(config.cache.mode).toBe('redis');
    expect(config.redis.displayUrl).toBe('redis://:***@127.0.0.1:6379/2');
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.apiKeys.map((key) => key.reveal())).toEqual(['a-key-1', 'a-key-2']);
    expect(config.logging).toEqual({ level: 'warn', format: 'pretty' });
    expect(config.featureFlags).toEqual({ newUi: true, betaQuizMode: false });
  });

  it('reports every bad variable at once, each named, with an example and without its value', () => {
    const { config, errors } = parse({
      DB_POOL_SIZE: 'ten',
      DB_MAX_OVERFLOW: '-1',
      PORT: '70000',
      DEBUG: 'maybe',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://root:topsecretpw@db/app',
      REDIS_URL: 'http://cache',
      LLM_RETRY_MIN_MS: '20000',
      LLM_FALLBACKS: 'nobody:model',
      LLM_PRICES: '{not json',
      OPENAI_BASE_URL: 'not a url',
      FEATURE_FLAG_NEW_UI: 'perhaps',
    });
    expect(config).toBeUndefined();
    const variables = errors.map((error) => error.variable).sort();
    expect(variables).toEqual(
      [
        'DATABASE_URL',
        'DB_MAX_OVERFLOW',
        'DB_POOL_SIZE',
        'DEBUG',
        'FEATURE_FLAG_NEW_UI',
        'LLM_FALLBACKS',
        'LLM_PRICES',
        'LLM_RETRY_MIN_MS',
        'LOG_LEVEL',
        'OPENAI_BASE_URL',
        'PORT',
        'REDIS_URL',
      ].sort(),
    );
    for (const error of errors) {
      expect(error.message.length).toBeGreaterThan(5);
      expect(error.example).toBeDefined();
    }
    expect(JSON.stringify(errors)).not.toContain('topsecretpw');
  });

  it('requires an LLM key only for the provider that needs one, and only when one is chosen', () => {
    expect(parse({}).warnings.map((warning) => warning.variable)).toContain('LLM_PROVIDER');
    expect(parse({ LLM_PROVIDER: 'openai' }).errors).toEqual([expect.objectContaining({ variable: 'OPENAI_API_KEY' })]);
    expect(parse({ LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).config?.llm.configured).toBe(true);
    expect(parse({ LLM_PROVIDER: 'openai-compatible' }).errors.map((error) => error.variable)).toEqual(['OPENAI_BASE_URL']);
    expect(
      parse({ LLM_PROVIDER: 'azure' })
        .errors.map((error) => error.variable)
        .sort(),
    ).toEqual(['AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_DEPLOYMENT', 'AZURE_OPENAI_ENDPOINT']);
    const withToken = parseEnvironment(
      { LLM_PROVIDER: 'azure', AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'd' },
      { ...context, azureTokenProvider: true },
    );
    expect(withToken.errors).toEqual([]);
    expect(withToken.config?.llm.model).toBe('d');
    expect(
      parse({ OPENAI_API_KEY: 'sk-test-0000000000000', LLM_FALLBACKS: 'anthropic:claude' }).errors.map((error) => error.variable),
    ).toEqual(['ANTHROPIC_API_KEY']);
  });

  it('checks the embedding provider and fallbacks as LLM_FALLBACKS are checked, every problem at once', () => {
    const openai = { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test-0000000000000' };
    const anthropic = parse({ ...openai, LLM_EMBEDDING_PROVIDER: 'anthropic' }).errors;
    expect(anthropic).toEqual([expect.objectContaining({ variable: 'LLM_EMBEDDING_PROVIDER' })]);
    expect(anthropic[0]?.message).toContain('anthropic, which has no embeddings API');

    expect(parse({ ...openai, LLM_EMBEDDING_PROVIDER: 'gemini' }).errors).toEqual([
      expect.objectContaining({ variable: 'GEMINI_API_KEY', message: 'is required when LLM_EMBEDDING_PROVIDER=gemini' }),
    ]);
    expect(parse({ ...openai, LLM_EMBEDDING_PROVIDER: 'gemini', GOOGLE_API_KEY: 'AIza-test' }).errors).toEqual([]);

    const azure = parse({ ...openai, LLM_EMBEDDING_FALLBACKS: 'azure:text-embedding-3-small' }).errors;
    expect(azure.map((error) => error.variable).sort()).toEqual(['AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT']);
    expect(azure[0]?.message).toContain('LLM_EMBEDDING_FALLBACKS');
    expect(
      parse({
        ...openai,
        LLM_EMBEDDING_FALLBACKS: 'azure:text-embedding-3-small',
        AZURE_OPENAI_API_KEY: 'azure-key-0000',
        AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
      }).errors,
    ).toEqual([]);

    // Azure embeddings without a configured deployment: each call names one, as POST /v1/embeddings does.
    expect(
      parse({
        ...openai,
        LLM_EMBEDDING_PROVIDER: 'azure',
        AZURE_OPENAI_API_KEY: 'azure-key-0000',
        AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
      }).errors,
    ).toEqual([]);

    const all = parse({
      ...openai,
      LLM_EMBEDDING_PROVIDER: 'bedrock',
      LLM_EMBEDDING_FALLBACKS: 'anthropic:claude,gemini:gemini-embedding-001',
    });
    // The Gemini fallback's vectors are also longer than Titan's: that is named too.
    expect(all.errors.map((error) => error.variable).sort()).toEqual([
      'AWS_REGION',
      'GEMINI_API_KEY',
      'LLM_EMBEDDING_FALLBACKS',
      'LLM_EMBEDDING_FALLBACKS',
    ]);
    expect(all.errors.map((error) => error.message)).toContain(
      'entry "anthropic:claude": anthropic has no embeddings API; use one of openai, azure, openai-compatible, gemini, bedrock',
    );
  });

  it('still checks the rules between variables when others are invalid', () => {
    const { errors } = parse({ DB_POOL_SIZE: 'x', LLM_PROVIDER: 'anthropic', LLM_CACHE: 'redis' });
    expect(errors.map((error) => error.variable).sort()).toEqual(['ANTHROPIC_API_KEY', 'DB_POOL_SIZE', 'LLM_CACHE']);
  });

  it('warns about risky choices', () => {
    const production = parse({ NODE_ENV: 'production', DEBUG: 'true' }).warnings.map((warning) => warning.variable);
    expect(production).toEqual(expect.arrayContaining(['DATABASE_URL', 'DEBUG', 'GROUNDWORK_API_KEYS']));
    const remote = parse({ DATABASE_URL: 'postgres://app@db.example.com/app' })
      .warnings.map((warning) => warning.message)
      .join('\n');
    expect(remote).toContain('without TLS');
    expect(
      parse({ DATABASE_URL: 'postgres://app@db.example.com/app?sslmode=verify-full' }).warnings.map((warning) => warning.variable),
    ).not.toContain('DATABASE_URL');
    expect(parse({ DATABASE_URL: 'postgres://app@127.0.0.1/app' }).warnings.map((warning) => warning.variable)).not.toContain(
      'DATABASE_URL',
    );
  });

  it('maps the Python log level names and lets DEBUG lower the default level', () => {
    expect(parse({ LOG_LEVEL: 'CRITICAL' }).config?.logging.level).toBe('fatal');
    expect(parse({ DEBUG: 'true' }).config?.logging.level).toBe('debug');
    expect(parse({ DEBUG: 'true', LOG_LEVEL: 'ERROR' }).config?.logging.level).toBe('error');
  });

  it('parses every variable’s documented example, and applies its documented default', () => {
    for (const [name, definition] of Object.entries(VARIABLES)) {
      if (!definition.example.includes('…')) expect(definition.field(definition.example).ok, `${name}=${definition.example}`).toBe(true);
      if (definition.default.startsWith('(') || definition.default.includes(' ')) continue;
      const unset = definition.field(undefined);
      const documented = definition.field(definition.default);
      expect(unset.ok && documented.ok, name).toBe(true);
      // Optional fields stay undefined here; their defaults are applied when the AppConfig is built (tested above).
      if (unset.ok && documented.ok && unset.value !== undefined)
        expect(unset.value, `${name} defaults to ${definition.default}`).toEqual(documented.value);
    }
  });

  it('documents every variable with a default, a description and an example', () => {
    for (const [name, definition] of Object.entries(VARIABLES)) {
      expect(definition.description, name).not.toBe('');
      expect(definition.default, name).not.toBe('');
      expect(definition.example, name).not.toBe('');
    }
  });
});

describe('parsePrices', () => {
  it('reads model prices, keeps the optional rates, and ignores unknown fields', () => {
    expect(parsePrices('{"a":{"input":1,"output":2},"b":{"input":0,"output":0.5,"cachedInput":0.1,"note":"x"}}')).toEqual({
      a: { input: 1, output: 2 },
      b: { input: 0, output: 0.5, cachedInput: 0.1 },
    });
    expect(parsePrices('{}')).toEqual({});
  });

  it('refuses anything else: not JSON, not an object, a missing, negative or non-numeric rate', () => {
    for (const raw of [
      'not json',
      '[]',
      'null',
      '{"m":[1,2]}',
      '{"m":{"input":1}}',
      '{"m":{"input":-1,"output":2}}',
      '{"m":{"input":"1","output":2}}',
      '{"m":{"input":1,"output":2,"cachedInput":-0.1}}',
      '{"m":{"input":1,"output":2,"batch":-0.5}}',
    ])
      expect(parsePrices(raw), raw).toBeUndefined();
  });

  it('keeps a model named __proto__ as a price, never as the prototype of the prices', () => {
    const prices = parsePrices('{"__proto__":{"input":1,"output":2},"constructor":{"input":3,"output":4}}');
    expect(prices).toBeDefined();
    expect(Object.getPrototypeOf(prices)).toBeNull();
    expect(Object.keys(prices ?? {})).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(prices, '__proto__')?.value).toEqual({ input: 1, output: 2 });
    expect(prices?.constructor).toEqual({ input: 3, output: 4 });
    // A model the prices do not name inherits nothing.
    expect((prices as Record<string, unknown>).toString).toBeUndefined();
  });
});

describe('featureFlagKey', () => {
  it('turns FEATURE_FLAG_SNAKE_CASE into camelCase', () => {
    expect(featureFlagKey('FEATURE_FLAG_NEW_UI')).toBe('newUi');
    expect(featureFlagKey('FEATURE_FLAG_X')).toBe('x');
    expect(featureFlagKey('FEATURE_FLAG_BETA_2_MODE')).toBe('beta2Mode');
  });
});
