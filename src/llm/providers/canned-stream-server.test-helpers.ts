import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** A server that answers every request 200 with the server-sent events last given to `answer`. */
export interface CannedStreamServer {
  /** Its base URL, once the file's `beforeAll` has run. */
  readonly baseUrl: string;
  /** Sets the body the next requests are answered with. */
  answer(events: string): void;
}

/**
 * Starts a {@link CannedStreamServer} for the test file (in `beforeAll`) and closes it, its
 * connections first, in `afterAll`: for tests that need a provider's exact stream bytes.
 */
export function cannedStreamServer(): CannedStreamServer {
  let body = '';
  let baseUrl = '';
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(body);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    get baseUrl() {
      return baseUrl;
    },
    answer(events) {
      body = events;
    },
  };
}
