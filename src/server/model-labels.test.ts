import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardStack, startDashboardStack } from '../dashboard/dashboard-stack.test-helpers.js';
import { OTHER_MODEL } from '../observability/known-models.js';
import { TenantRepository } from '../tenants/tenant-repository.js';
import { MODEL_NAME_MAX_LENGTH } from './chat-request-schema.js';

let stack: DashboardStack;

// A keyless service on loopback, without virtual keys, so that any local caller picks the model name.
beforeAll(async () => {
  stack = await startDashboardStack({ GROUNDWORK_VIRTUAL_KEYS: 'false', GROUNDWORK_ADMIN_KEY: '' });
});

afterAll(async () => {
  await stack?.close();
});

function chat(model: string): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** Every value the `/metrics` text gives label `name`. */
function labelValues(text: string, name: string): Set<string> {
  return new Set([...text.matchAll(new RegExp(`[{,]${name}="([^"]*)"`, 'g'))].map((match) => match[1] ?? ''));
}

it('folds model names the service does not know into one label, while its own models keep theirs', async () => {
  expect((await chat('gpt-4o-mini')).status).toBe(200);
  for (let index = 0; index < 50; index++) {
    const answer = await chat(`rand-model-${index}-${Math.random().toString(36).slice(2)}`);
    // The model is still sent on: the fake provider answers any name.
    expect(answer.status).toBe(200);
  }
  expect(stack.fake.requests.length).toBeGreaterThanOrEqual(51);
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const requestModels = labelValues(text, 'gen_ai_request_model');
  expect([...requestModels].sort()).toEqual(['gpt-4o-mini', OTHER_MODEL]);
  const models = labelValues(text, 'model');
  expect([...models].filter((model) => model.startsWith('rand-model-'))).toEqual([]);
  expect(models.has(OTHER_MODEL)).toBe(true);
  expect(text).not.toContain('rand-model-');
});

it('refuses a model name longer than the limit with a 400 naming model', async () => {
  const answer = await chat('m'.repeat(200 * 1024));
  expect(answer.status).toBe(400);
  const body = (await answer.json()) as { error: { type: string; message: string; param?: string | null } };
  expect(body.error.type).toBe('invalid_request_error');
  expect(`${body.error.param ?? ''} ${body.error.message}`).toContain('model');
  expect(body.error.message).toContain(String(MODEL_NAME_MAX_LENGTH));
  expect(body.error.message).not.toContain('mmmmmmmm');
  expect((await chat('m'.repeat(MODEL_NAME_MAX_LENGTH))).status).toBe(200);
});

it('keeps a model the price table prices by prefix under its entry, with a breaker of its own', async () => {
  // Dated snapshots: priced as gpt-4.1 and gpt-4o, and never named in the configuration.
  for (let failure = 0; failure < 5; failure++) {
    stack.fake.enqueue({ type: 'error', status: 500 });
    expect((await chat('gpt-4.1-2025-04-14')).status).toBeGreaterThanOrEqual(500);
  }
  const refused = await chat('gpt-4.1-2025-04-14');
  expect(refused.status).toBe(503);
  // Another model's circuit is its own: the failures above did not open it.
  expect((await chat('gpt-4o-2024-08-06')).status).toBe(200);
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const requestModels = labelValues(text, 'gen_ai_request_model');
  expect(requestModels.has('gpt-4.1')).toBe(true);
  expect(requestModels.has('gpt-4o')).toBe(true);
  expect(text).not.toContain('2025-04-14');
});

it('gives the models a virtual key is allowed series and breakers of their own', async () => {
  const keyed = await startDashboardStack();
  try {
    const { plainKey } = await new TenantRepository(keyed.database.db).createKey({
      name: 'local-models',
      allowedModels: ['local-chat-a', 'local-chat-b'],
    });
    const call = (model: string) =>
      fetch(`${keyed.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${plainKey.reveal()}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
    for (let failure = 0; failure < 5; failure++) {
      keyed.fake.enqueue({ type: 'error', status: 500 });
      expect((await call('local-chat-a')).status).toBeGreaterThanOrEqual(500);
    }
    expect((await call('local-chat-a')).status).toBe(503);
    // The failures of local-chat-a opened its own circuit, not one it shares with local-chat-b.
    expect((await call('local-chat-b')).status).toBe(200);
    const text = await (await fetch(`${keyed.url}/metrics`)).text();
    const requestModels = labelValues(text, 'gen_ai_request_model');
    expect(requestModels.has('local-chat-a')).toBe(true);
    expect(requestModels.has('local-chat-b')).toBe(true);
    expect(requestModels.has(OTHER_MODEL)).toBe(false);
  } finally {
    await keyed.close();
  }
});
