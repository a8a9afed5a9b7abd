import { createServer, type Server, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { redisUrl } from '../../test/services.js';
import { Secret } from '../config/secret.js';
import { createRedisClient, type RedisClient } from '../internal/redis.js';
import { completionOf } from '../llm/model/completion-of.js';
import type { ChatCompletion } from '../llm/types.js';
import { captureLogger as capture } from '../observability/capture-logger.test-helpers.js';
import type { Logger } from '../observability/logger.js';
import { GroundworkMetrics } from '../observability/metrics.js';

/** A completion to store, with every optional field set so round trips are checked in full. */
export function sampleCompletion(content = 'Paris is the capital of France.'): ChatCompletion {
  return completionOf({
    provider: 'openai',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { content }, finishReason: 'stop' }],
    usage: { promptTokens: 12, completionTokens: 7, totalTokens: 19, cachedPromptTokens: 0, reasoningTokens: 0 },
    requestId: 'req_123',
  });
}

/** A logger that keeps its lines, parsed, for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const { logger, records } = capture('debug');
  return { logger, lines: records };
}

/** The value of one labelled series of a counter (0 when never incremented). */
export async function counterValue(
  metrics: GroundworkMetrics,
  name: 'cacheLookups' | 'storeFailures',
  labels: Record<string, string>,
): Promise<number> {
  const data = await metrics[name].get();
  const match = data.values.find((value) => Object.entries(labels).every(([label, wanted]) => value.labels[label as never] === wanted));
  return match?.value ?? 0;
}

/** Fresh metrics for one test. */
export function freshMetrics(): GroundworkMetrics {
  return new GroundworkMetrics();
}

/** A fail-fast client to the test Redis, the way Groundwork opens it. */
export function testRedisClient(url = redisUrl()): RedisClient {
  return createRedisClient({ url: new Secret('REDIS_URL', url), displayUrl: url, keyPrefix: 'unused:' });
}

/** Like {@link testRedisClient}, once connected (it fails fast, so commands before that would fail). */
export async function connectedRedisClient(): Promise<RedisClient> {
  const client = testRedisClient();
  if (client.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The test Redis at ${redisUrl()} is not reachable`)), 5000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return client;
}

/** A plain client for test set-up and inspection. */
export function adminRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** The time on the Redis server's clock, in ms: the clock Redis sets and checks expiry times by. */
export async function redisTime(client: Pick<Redis, 'time'>): Promise<number> {
  const [seconds, microseconds] = await client.time();
  return Number(seconds) * 1000 + Number(microseconds) / 1000;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

/**
 * A TCP proxy in front of the test Redis that can be cut and restored, to stand for Redis
 * going down and coming back without touching the shared server.
 */
export class RedisProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };
  #port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => {
      const upstream = new Socket();
      this.#track(client);
      this.#track(upstream);
      upstream.connect(this.#target.port, this.#target.host);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
  }

  /** Starts a proxy on a free local port. */
  static async start(): Promise<RedisProxy> {
    const url = new URL(redisUrl());
    const proxy = new RedisProxy({ host: url.hostname, port: Number(url.port || 6379) });
    await proxy.#listen(0);
    return proxy;
  }

  /** The URL clients should use. */
  get url(): string {
    const url = new URL(redisUrl());
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  /** Redis "goes down": open connections are cut and new ones refused. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Redis "comes back" on the same port. */
  async restore(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.cut();
    for (const socket of this.#sockets) socket.destroy();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    if (address !== null && typeof address === 'object') this.#port = address.port;
  }
}
