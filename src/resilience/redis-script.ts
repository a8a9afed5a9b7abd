import { createHash } from 'node:crypto';
import type { RedisClient } from '../internal/redis.js';

/** The Redis methods a script needs, so tests can hand in a real client or a small double. */
export type ScriptClient = Pick<RedisClient, 'evalsha' | 'eval'>;

/**
 * A Lua script run atomically on Redis: by its SHA1 (`EVALSHA`), loading it with `EVAL` the
 * first time a server does not know it.
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with `keys` and `args`; rejects when Redis does. */
  async run(client: ScriptClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
