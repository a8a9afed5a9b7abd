import { GroundworkError } from '../errors/groundwork-error.js';

/** Whether `host` binds to this machine only. */
export function isLoopbackHost(host: string): boolean {
  const normalized = host.toLowerCase().replace(/^\[|\]$/g, '');
  return normalized === 'localhost' || normalized === '::1' || normalized.startsWith('127.') || normalized === '::ffff:127.0.0.1';
}

/**
 * Refuses to expose an unauthenticated service: with no `GROUNDWORK_API_KEYS` the host must be a
 * loopback address. Throws a `GroundworkError` (`server_unauthenticated_bind`) saying what to do.
 */
export function assertSafeBind(host: string, authenticated: boolean): void {
  if (authenticated || isLoopbackHost(host)) return;
  throw new GroundworkError(
    'server_unauthenticated_bind',
    `Refusing to listen on ${host} without API keys: anyone who can reach it could spend the provider quota. ` +
      'Set GROUNDWORK_API_KEYS (comma-separated bearer keys), or set HOST=127.0.0.1 to serve this machine only.',
  );
}
