/**
 * Query parameters of a URL that carry a credential (`?password=…`, `?sslpassword=…`, a token, an
 * API key as Google's APIs take it (`key`), an Azure SAS signature (`sig`), an API gateway's
 * `subscription-key`), matched by name, case-insensitively.
 */
const CREDENTIAL_PARAMETER =
  /^(password|sslpassword|pass|passwd|pwd|secret|token|access_token|auth_token|api_key|apikey|api-key|key|sig|subscription-key)$/i;

/** `?name=value` and `&name=value` pairs in a URL's query. */
const QUERY_PAIR = /([?&])([^=&#]*)=([^&#]*)/g;

/**
 * Replaces the password (and a lone token in the user part) of a URL, and the value of every
 * credential query parameter (`password`, `sslpassword`, a token…), with `***`. Non-URLs pass unchanged.
 */
export function maskUrlCredentials(raw: string): string {
  const masked = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@?#]*)@/i, (_match, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(':');
    const user = colon === -1 ? userInfo : userInfo.slice(0, colon);
    if (colon === -1 && scheme.toLowerCase().startsWith('redis')) return `${scheme}***@`;
    return colon === -1 ? `${scheme}${user}@` : `${scheme}${user}:***@`;
  });
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(masked)) return masked;
  return masked.replace(QUERY_PAIR, (pair, separator: string, name: string, value: string) =>
    value !== '' && CREDENTIAL_PARAMETER.test(decodeOrKeep(name)) ? `${separator}${name}=***` : pair,
  );
}

/**
 * The values of a URL's credential query parameters, as written and decoded (percent-escapes, and
 * `+` as a space, as a query is read), so that each form can be hidden wherever it appears.
 */
export function urlQueryCredentials(raw: string): string[] {
  const values = new Set<string>();
  for (const [, , name = '', value = ''] of raw.matchAll(QUERY_PAIR)) {
    if (value === '' || !CREDENTIAL_PARAMETER.test(decodeOrKeep(name))) continue;
    values.add(value);
    values.add(decodeOrKeep(value));
    values.add(decodeOrKeep(value.replaceAll('+', ' ')));
  }
  return [...values];
}

function decodeOrKeep(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // Not percent-encoded: the raw form stands.
    return value;
  }
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
