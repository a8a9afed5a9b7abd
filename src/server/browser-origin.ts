/** The characters a `Host` header may hold: a name or IPv4 address, or a bracketed IPv6 address, and a port. */
const HOST_HEADER = /^(?:[a-z0-9.-]+|\[[a-f0-9:.]+\])(?::\d{1,5})?$/i;

/**
 * The name or address a `Host` header (`name[:port]`) addresses, lowercased and normalised as a
 * browser writes it (`127.1` is `127.0.0.1`; IPv6 keeps its brackets); undefined for anything else.
 */
export function hostNameOf(host: string | undefined, protocol = 'http:'): string | undefined {
  return parsedHost(host, protocol)?.hostname;
}

/**
 * Whether `origin` (a browser's `Origin` header) is the origin the request was addressed to, its
 * `Host`: the page that sent the request is this service's own. A default port counts as omitted
 * (`http://localhost` is `localhost:80`); `null` and every other scheme are never the service's.
 */
export function isOwnOrigin(origin: string, host: string | undefined): boolean {
  let page: URL;
  try {
    page = new URL(origin);
  } catch {
    return false;
  }
  if (page.protocol !== 'http:' && page.protocol !== 'https:') return false;
  return parsedHost(host, page.protocol)?.host === page.host;
}

function parsedHost(host: string | undefined, protocol: string): URL | undefined {
  if (host === undefined || !HOST_HEADER.test(host)) return undefined;
  try {
    return new URL(`${protocol}//${host}`);
  } catch {
    return undefined;
  }
}
