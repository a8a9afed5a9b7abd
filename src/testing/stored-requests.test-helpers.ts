import type { FakeProviderServer } from './fake-provider-server.js';

/**
 * What `fake` was asked besides making responses (`POST …/responses`), as `METHOD path`, oldest
 * first; with `query`, each request's query string follows its path (`?limit=1&order=asc`).
 */
export function storedRequests(fake: FakeProviderServer, options: { query?: boolean } = {}): string[] {
  return fake.requests
    .filter((request) => !(request.method === 'POST' && request.path.endsWith('/responses')))
    .map(({ method, path, query }) => {
      const search = options.query === true && Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : '';
      return `${method} ${path}${search}`;
    });
}
