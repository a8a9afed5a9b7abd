import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { GroundworkError } from '../errors/groundwork-error.js';
import { startTestServer, type TestServer } from './test-server.test-helpers.js';

/** Shaped like the resilience stack's refusals: a code and `retryAfterMs`. */
class Refusal extends GroundworkError {
  readonly retryAfterMs: number;

  constructor(code: string, message: string, retryAfterMs: number) {
    super(code, message, { retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function refusedWith(error: unknown): Promise<APIError> {
  harness = await startTestServer();
  harness.backend.enqueue({ error });
  try {
    await harness.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  } catch (caught) {
    if (caught instanceof APIError) return caught;
    throw caught;
  }
  throw new Error('the call was not refused');
}

describe('refusals by Groundwork’s own limits', () => {
  it('answers the rate limiter’s refusal with 429 and Retry-After in whole seconds, rounded up', async () => {
    const error = await refusedWith(new Refusal('rate_limit_exceeded', 'Rate limit of 60 requests per minute reached.', 1200));
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('2');
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(error.message).toContain('Rate limit of 60 requests per minute reached.');
  });

  it('answers an open breaker with 503 and Retry-After', async () => {
    const error = await refusedWith(new Refusal('circuit_open', 'Circuit for openai/gpt-4o-mini is open.', 29_001));
    expect(error.status).toBe(503);
    expect(error.headers?.get('retry-after')).toBe('30');
    expect(error.error).toMatchObject({ type: 'service_unavailable', code: 'circuit_open' });
  });

  it('answers a full queue with 429 and a short Retry-After even without an estimate', async () => {
    const queueFull = Object.assign(new GroundworkError('queue_full', '4 calls in flight and 100 waiting.', { retryable: true }), {
      retryAfterMs: undefined,
    });
    const error = await refusedWith(queueFull);
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('1');
  });

  it('counts refusals in the HTTP metrics by status', async () => {
    await refusedWith(new Refusal('rate_limit_exceeded', 'limited', 500));
    const text = await (await fetch(`${harness?.url}/metrics`)).text();
    expect(text).toMatch(/groundwork_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="429"\} 1/);
  });
});
