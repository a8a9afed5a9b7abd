/**
 * What a failed Redis command means, in words a reader can act on. ioredis says "Stream isn't
 * writeable and enableOfflineQueue options is false" when it is simply not connected.
 */
export function describeRedisFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/i.test(message)) return 'not connected';
  if (/Command timed out/i.test(message)) return 'no answer in time';
  if (/NOAUTH|WRONGPASS|AUTH/i.test(message)) return 'authentication failed: check the password in REDIS_URL';
  return message;
}
