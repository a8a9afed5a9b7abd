export { type CreateLoggerOptions, createLogger, type Logger, silentLogger } from './logger.js';
export { isSecretKey, redactValue, scrubSecrets } from './redact.js';
