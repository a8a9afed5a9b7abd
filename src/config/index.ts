export { ConfigError, type ConfigIssue } from '../errors/config-error.js';
export type {
  AppConfig,
  CacheConfig,
  DatabaseConfig,
  DatabaseDialect,
  LlmConfig,
  LoggingConfig,
  ModelPrice,
  ProviderModel,
  RedisConfig,
  ReplicaConfig,
  ResilienceConfig,
  ServerConfig,
} from './app-config.js';
export { ConfigSource, type ConfigSourceOptions, type EnvironmentStatus, loadConfig, validateEnvironment } from './load-config.js';
export { parseEnvironment } from './parse-environment.js';
export { databaseDialect, featureFlagKey } from './schema.js';
export { knownSecretValues, Secret } from './secret.js';
export { maskUrlCredentials } from './urls.js';
export { LLM_PROVIDERS, type LlmProviderName, SECRET_VARIABLES, VARIABLES, type VariableName } from './variables.js';
