import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

let stack: ServiceStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A keyless `serve` (no GROUNDWORK_API_KEYS, loopback) over the real facade and the fake provider. */
async function keyless(env: Record<string, string> = {}): Promise<ServiceStack> {
  stack = await startServiceStack({ GROUNDWORK_API_KEYS: '', ...env });
  return stack;
}

function portOf(current: ServiceStack): number {
  return Number(new URL(current.baseUrl).port);
}

/** The chat calls the fake provider received. */
function providerCalls(current: ServiceStack): number {
  return current.upstreamBodies().length;
}

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'spend' }], max_tokens: 16 });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request over real HTTP with exactly these headers (fetch would not let a test choose `Host`). */
function send(
  current: ServiceStack,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port: portOf(current), path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (incoming) => {
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => {
          body += chunk;
        });
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** What a page's `fetch(url, { method: 'POST', mode: 'no-cors', body })` sends: no preflight, text/plain. */
function pagePost(current: ServiceStack, headers: Record<string, string>): Promise<Answer> {
  return send(current, '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'sec-fetch-mode': 'no-cors', ...headers },
    body: CHAT,
  });
}

function errorOf(answer: Answer): { message: string; type: string; param: unknown; code: string } {
  return (JSON.parse(answer.body) as { error: { message: string; type: string; param: unknown; code: string } }).error;
}

describe('a keyless service and web pages of other origins', () => {
  it('refuses a cross-site text/plain POST with 403 before any provider call', async () => {
    const current = await keyless();
    const answer = await pagePost(current, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toContain('application/json');
    const error = errorOf(answer);
    expect(error).toMatchObject({ type: 'permission_error', code: 'cross_site_refused', param: null });
    expect(error.message).toContain('SERVER_CORS_ORIGINS');
    expect(error.message).not.toContain('evil.example');
    expect(providerCalls(current)).toBe(0);
  });

  it('refuses what older browsers send (an Origin without Sec-Fetch-*), an opaque null origin, and a form post', async () => {
    const current = await keyless();
    const answers = [
      await pagePost(current, { origin: 'https://evil.example' }),
      await pagePost(current, { origin: 'null', 'sec-fetch-site': 'cross-site' }),
      await send(current, '/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-mode': 'navigate' },
        body: `${encodeURIComponent(CHAT)}=`,
      }),
    ];
    expect(answers.map((answer) => [answer.status, errorOf(answer).code])).toEqual(Array(3).fill([403, 'cross_site_refused']));
    expect(providerCalls(current)).toBe(0);
  });

  it('refuses a page on another port of this machine, which browsers call same-site', async () => {
    const current = await keyless();
    const other = `http://127.0.0.1:${portOf(current) === 5173 ? 5174 : 5173}`;
    const withOrigin = await pagePost(current, { origin: other, 'sec-fetch-site': 'same-site' });
    const localhostPage = await pagePost(current, { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' });
    // A GET a page makes with <script src> or an image: no Origin, only Sec-Fetch-Site.
    const noOrigin = await send(current, '/v1/models', { headers: { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' } });
    const crossSiteGet = await send(current, '/v1/models', { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } });
    for (const answer of [withOrigin, localhostPage, noOrigin, crossSiteGet]) {
      expect(answer.status).toBe(403);
      expect(errorOf(answer).code).toBe('cross_site_refused');
    }
    expect(providerCalls(current)).toBe(0);
  });

  it('refuses before reading the body: a cross-site body that is not JSON gets 403, not 400', async () => {
    const current = await keyless();
    const answer = await send(current, '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: 'not json',
    });
    expect(answer.status).toBe(403);
    expect(errorOf(answer).code).toBe('cross_site_refused');
  });

  it('serves the page of its own origin', async () => {
    const current = await keyless();
    const own = `http://127.0.0.1:${portOf(current)}`;
    const answer = await pagePost(current, { origin: own, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(providerCalls(current)).toBe(1);
  });

  it('serves a page whose origin is in SERVER_CORS_ORIGINS, with its CORS headers and preflight', async () => {
    const page = 'http://localhost:5173';
    const current = await keyless({ SERVER_CORS_ORIGINS: page });
    const preflight = await send(current, '/v1/chat/completions', {
      method: 'OPTIONS',
      headers: {
        origin: page,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
        'sec-fetch-site': 'same-site',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(page);
    const answer = await pagePost(current, {
      origin: page,
      'sec-fetch-site': 'same-site',
      'sec-fetch-mode': 'cors',
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(page);
    expect(providerCalls(current)).toBe(1);
    const other = await pagePost(current, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(other.status).toBe(403);
    expect(providerCalls(current)).toBe(1);
  });

  it('serves any page when SERVER_CORS_ORIGINS is *', async () => {
    const current = await keyless({ SERVER_CORS_ORIGINS: '*' });
    const answer = await pagePost(current, { origin: 'https://app.example', 'sec-fetch-site': 'cross-site' });
    expect(answer.status).toBe(200);
    expect(providerCalls(current)).toBe(1);
  });

  it('serves programs that send no Origin or Sec-Fetch-*, with or without a JSON content type', async () => {
    const current = await keyless();
    // curl -d '…' sends application/x-www-form-urlencoded; some clients send no content type at all.
    const curl = await send(current, '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: CHAT,
    });
    const bare = await send(current, '/v1/chat/completions', { method: 'POST', body: CHAT });
    expect([curl.status, bare.status]).toEqual([200, 200]);
    const client = new OpenAI({ apiKey: 'unused', baseURL: current.baseUrl, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
    expect(providerCalls(current)).toBe(3);
  });
});

describe('a keyless service and DNS rebinding', () => {
  it('refuses a request addressed to another host name, on every route, before any provider call', async () => {
    const current = await keyless();
    const rebound = `attacker.example:${portOf(current)}`;
    // After rebinding, the page is same-origin with the name it made resolve to 127.0.0.1.
    const chat = await pagePost(current, {
      host: rebound,
      origin: `http://${rebound}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    });
    expect(chat.status).toBe(403);
    expect(errorOf(chat)).toMatchObject({ type: 'permission_error', code: 'host_not_loopback' });
    expect(errorOf(chat).message).not.toContain('attacker');
    for (const path of ['/v1/models', '/metrics', '/readyz']) {
      expect((await send(current, path, { headers: { host: rebound } })).status, path).toBe(403);
    }
    for (const host of [
      `127.attacker.example:${portOf(current)}`,
      '127.0.0.1.attacker.example',
      'localhost.attacker.example',
      'bad host',
    ]) {
      expect((await send(current, '/v1/models', { headers: { host } })).status, host).toBe(403);
    }
    expect(providerCalls(current)).toBe(0);
  });

  it('serves loopback names and addresses', async () => {
    const current = await keyless();
    const port = portOf(current);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LocalHost:${port}`,
      `[::1]:${port}`,
      `127.0.0.2:${port}`,
      `app.localhost:${port}`,
      '127.0.0.1',
    ]) {
      expect((await send(current, '/v1/models', { headers: { host } })).status, host).toBe(200);
    }
    const own = `localhost:${port}`;
    const chat = await pagePost(current, {
      host: own,
      origin: `http://${own}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    });
    expect(chat.status).toBe(200);
  });
});

describe('a service with keys', () => {
  it('leaves browsers and host names to its keys: a key is never sent by a page on its own', async () => {
    stack = await startServiceStack();
    const headers = { authorization: `Bearer ${STACK_API_KEY}`, host: `gateway.example:${portOf(stack)}` };
    const answer = await pagePost(stack, { ...headers, origin: 'chrome-extension://abcdefghijklmnop', 'sec-fetch-site': 'none' });
    expect(answer.status).toBe(200);
    const keyless = await pagePost(stack, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(keyless.status).toBe(401);
    expect(providerCalls(stack)).toBe(1);
  });
});
