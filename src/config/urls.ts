/** Replaces the password (and a lone token in the user part) of a URL with `***`. Non-URLs pass unchanged. */
export function maskUrlCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@?#]*)@/i, (_match, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(':');
    const user = colon === -1 ? userInfo : userInfo.slice(0, colon);
    if (colon === -1 && scheme.toLowerCase().startsWith('redis')) return `${scheme}***@`;
    return colon === -1 ? `${scheme}${user}@` : `${scheme}${user}:***@`;
  });
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

/** Whether a host name is this machine (loopback or a Unix socket path). */
export function isLocalHost(host: string): boolean {
  return LOCAL_HOSTS.has(host.toLowerCase()) || host.startsWith('/') || host.startsWith('127.');
}

/**
 * A printable label per replica URL: `host:port/database`, never the user or password. A URL
 * listed twice gets `#2`, `#3`… so that every replica has its own metric series.
 */
export function replicaLabels(urls: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return urls.map((raw) => {
    let label: string;
    try {
      const url = new URL(raw);
      label = `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname.length > 1 ? url.pathname : '/'}`;
    } catch {
      label = 'invalid';
    }
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label}#${count}`;
  });
}
