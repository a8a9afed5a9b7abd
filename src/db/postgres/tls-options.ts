import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** TLS settings for `pg`, and the URL with the TLS parameters taken out (Groundwork applies them itself). */
export interface TlsSetup {
  readonly connectionString: string;
  readonly ssl: false | ConnectionOptions;
}

const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'];

/**
 * Reads `sslmode` the way libpq does: `disable`/absent → plain; `prefer`/`require` → encrypted,
 * the certificate checked only when a CA is given (`DB_SSL_CA` or `sslrootcert`); `verify-ca` →
 * the chain is checked; `verify-full` → the chain and the host name are checked.
 */
export function tlsOptions(url: string, caPath: string | undefined): TlsSetup {
  const parsed = new URL(url);
  const mode = (parsed.searchParams.get('sslmode') ?? (parsed.searchParams.get('ssl') === 'true' ? 'require' : 'disable')).toLowerCase();
  const rootCert = parsed.searchParams.get('sslrootcert') ?? undefined;
  for (const name of TLS_PARAMETERS) parsed.searchParams.delete(name);
  const connectionString = parsed.toString();
  const caFile = caPath ?? rootCert;
  const ca = caFile === undefined ? undefined : readFileSync(caFile, 'utf8');
  switch (mode) {
    case 'disable':
    case 'allow':
      return { connectionString, ssl: false };
    case 'prefer':
    case 'require':
      return {
        connectionString,
        ssl: ca === undefined ? { rejectUnauthorized: false } : { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined },
      };
    case 'verify-ca':
      return {
        connectionString,
        ssl: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true, checkServerIdentity: () => undefined },
      };
    case 'verify-full':
      return { connectionString, ssl: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true } };
    default:
      throw new Error(`DATABASE_URL: unknown sslmode "${mode}"; use disable, require, verify-ca or verify-full`);
  }
}
