import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../config/app-config.js';
import { showOnly } from './safe-inspect.js';

/** The few Redis methods Groundwork uses, so tests can hand in a real client or a small double. */
export type RedisClient = Redis;

/** Options for {@link createRedisClient}. */
export interface CreateRedisOptions {
  /** Longest a command may take before it fails, in ms. @default 1000 */
  commandTimeoutMs?: number;
  /** Label for the connection (shows in `CLIENT LIST`). */
  connectionName?: string;
}

/**
 * Opens a Redis connection that fails fast when Redis is unreachable (no offline queue,
 * bounded command time), so callers can fall back instead of hanging. Reconnects in the background.
 */
export function createRedisClient(config: RedisConfig, options: CreateRedisOptions = {}): RedisClient {
  if (config.url === undefined) throw new Error('REDIS_URL is not set');
  // Required here rather than imported: an application without Redis does not load ioredis.
  const { Redis: RedisConstructor } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const client = new RedisConstructor(config.url.reveal(), {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    connectionName: options.connectionName ?? 'groundwork',
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Connection errors surface as failed commands; the 'error' event must have a listener or it would crash the process.
  client.on('error', () => {});
  // ioredis keeps the password in client.options: show only where it connects and how it is.
  return showOnly(client, 'Redis', () => ({ url: config.displayUrl, status: client.status }));
}
