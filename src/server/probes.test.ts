import { afterEach, describe, expect, it } from 'vitest';
import { GroundworkMetrics } from '../observability/metrics.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.test-helpers.js';
import { startTestServer, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function scrape(server: TestServer) {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe('GET /healthz', () => {
  it('answers 200 while the process is up, whatever the dependencies say', async () => {
    harness = await startTestServer();
    harness.backend.databaseUp = false;
    const response = await fetch(`${harness.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${harness.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('GET /readyz', () => {
  it('is ready with every check, and turns 503 naming the check when the database goes away', async () => {
    harness = await startTestServer();
    const ready = await fetch(`${harness.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: [
        { name: 'config', ok: true },
        { name: 'database', ok: true },
        { name: 'migrations', ok: true },
      ],
    });
    harness.backend.databaseUp = false;
    const gone = await fetch(`${harness.url}/readyz`);
    expect(gone.status).toBe(503);
    expect(await gone.json()).toMatchObject({
      ready: false,
      checks: [{ name: 'config', ok: true }, { name: 'database', ok: false, detail: 'connection refused' }, {}],
    });
    harness.backend.databaseUp = true;
    expect((await fetch(`${harness.url}/readyz`)).status).toBe(200);
  });

  it('is not ready while migrations are pending', async () => {
    harness = await startTestServer();
    harness.backend.migrationsApplied = false;
    expect((await fetch(`${harness.url}/readyz`)).status).toBe(503);
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with every Groundwork metric and the process metrics', async () => {
    harness = await startTestServer();
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    expect(() => parsePrometheusText(text)).not.toThrow();
    for (const name of [
      'gen_ai_client_operation_duration_seconds',
      'gen_ai_client_token_usage',
      'groundwork_http_requests_total',
      'groundwork_http_request_duration_seconds',
      'groundwork_process_cpu_user_seconds_total',
      'groundwork_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('moves when calls happen, with bounded route labels', async () => {
    harness = await startTestServer();
    const before = await scrape(harness);
    const labels = { method: 'POST', route: '/v1/chat/completions', status: '200' };
    await harness.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await harness.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await fetch(`${harness.url}/no/such/path/123`);
    const after = await scrape(harness);
    expect(
      sampleValue(after, 'groundwork_http_requests_total', labels) - sampleValue(before, 'groundwork_http_requests_total', labels),
    ).toBe(2);
    expect(sampleValue(after, 'groundwork_http_request_duration_seconds_count', { method: 'POST', route: '/v1/chat/completions' })).toBe(2);
    expect(sampleValue(after, 'groundwork_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(after.some((sample) => sample.labels['route']?.includes('/no/such'))).toBe(false);
  });

  it("serves the backend's metrics and the server's own when createServer is given metrics of its own", async () => {
    const own = new GroundworkMetrics();
    harness = await startTestServer({ metrics: own });
    harness.backend.metrics.ledgerRows.inc({ result: 'written' }, 3);
    await harness.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const response = await fetch(`${harness.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = parsePrometheusText(text);
    expect(sampleValue(samples, 'groundwork_llm_ledger_rows_total', { result: 'written' })).toBe(3);
    expect(sampleValue(samples, 'groundwork_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '200' })).toBe(
      1,
    );
    expect(text).toContain('# TYPE groundwork_process_cpu_user_seconds_total ');
    // One family each, however many registries hold it.
    expect(text.match(/^# TYPE groundwork_http_requests_total /gm)).toHaveLength(1);
    // Recorded into the server's metrics, not the backend's.
    expect((await own.httpRequests.get()).values.length).toBeGreaterThan(0);
    expect((await harness.backend.metrics.httpRequests.get()).values).toHaveLength(0);
  });

  it('never holds prompt or answer text', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ content: 'a confidential answer' });
    await harness.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a confidential prompt' }] });
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    expect(text).not.toContain('confidential');
  });
});
