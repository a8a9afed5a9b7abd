import type { RedisClient } from '../internal/redis.js';

/** Tells every replica that keys or teams changed, so each drops its cached lookups at once. */
export interface KeyChangeBus {
  /**
   * Settles once this process listens (or, Redis unreachable, once `waitMs` has passed): a change
   * announced before then would be missed until the cache's TTL. Never rejects.
   */
  listening(waitMs: number): Promise<boolean>;
  /** Announces a change to every replica (this one included). */
  publish(): Promise<void>;
  /** Stops listening. Idempotent. */
  close(): void;
}

/**
 * A {@link KeyChangeBus} over Redis pub/sub: one extra connection per process listens on
 * `<prefix>tenants:keys-changed` and calls `onChange` for each message; ioredis subscribes again
 * after a reconnect. Losing a message only delays a change to the cache's TTL.
 */
export function redisKeyChangeBus(redis: RedisClient, keyPrefix: string, onChange: () => void): KeyChangeBus {
  const channel = keyChangeChannel(keyPrefix);
  const subscriber = redis.duplicate({ enableOfflineQueue: true, connectionName: 'groundwork-key-changes' });
  // Failures surface as a missed message, which the TTL covers; the event needs a listener or Node would crash.
  let closed = false;
  subscriber.on('error', () => {});
  // A closed bus hears nothing more: disconnecting leaves messages already on their way to arrive.
  subscriber.on('message', (received: string) => {
    if (received === channel && !closed) onChange();
  });
  const subscribed = subscriber.subscribe(channel).then(
    () => true,
    () => false,
  );
  return {
    async listening(waitMs) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      });
      try {
        return await Promise.race([subscribed, waited]);
      } finally {
        clearTimeout(timer);
      }
    },
    publish: () => publishKeyChange(redis, keyPrefix),
    close() {
      if (closed) return;
      closed = true;
      subscriber.disconnect();
    },
  };
}

/** The channel key and team changes are announced on. */
export function keyChangeChannel(keyPrefix: string): string {
  return `${keyPrefix}tenants:keys-changed`;
}

/** Announces a change to every listening replica, without listening (a command-line tool that made the change). */
export async function publishKeyChange(redis: Pick<RedisClient, 'publish'>, keyPrefix: string): Promise<void> {
  await redis.publish(keyChangeChannel(keyPrefix), '1');
}
