import { isIPv4 } from 'node:net';
import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * Whether `host` binds to this machine only: `localhost`, `::1`, or an IPv4 address in 127.0.0.0/8
 * (also IPv4-mapped, `::ffff:127.…`). A name that merely starts with `127.` (`127.example.com`) is
 * resolved by DNS, so it is not one.
 */
export function isLoopbackHost(host: string): boolean {
  const normalized = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (normalized === 'localhost' || normalized === '::1') return true;
  const ipv4 = normalized.startsWith('::ffff:') ? normalized.slice('::ffff:'.length) : normalized;
  return isIPv4(ipv4) && ipv4.startsWith('127.');
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
