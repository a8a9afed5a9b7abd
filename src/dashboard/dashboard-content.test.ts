import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type DashboardStack, startDashboardStack } from './dashboard-stack.test-helpers.js';
import type { CallDetail } from './dashboard-wire.js';

const bearer = { authorization: `Bearer ${ADMIN_KEY}` };

/** Makes one chat call through the service with a fresh key, and answers its ledger row's detail once written. */
async function callAndOpen(stack: DashboardStack, question: string): Promise<CallDetail> {
  const created = await fetch(`${stack.url}/admin/api/keys`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `content-${question.length}-${Date.now()}` }),
  });
  const { plainKey } = (await created.json()) as { plainKey: string };
  const answered = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${plainKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }),
  });
  expect(answered.status).toBe(200);
  const answer = ((await answered.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content;
  expect(answer).toBeTruthy();
  let id: number | undefined;
  await expect
    .poll(
      async () => {
        const page = (await (await fetch(`${stack.url}/admin/api/calls?limit=1`, { headers: bearer })).json()) as {
          data: Array<{ id: number }>;
        };
        id = page.data[0]?.id;
        return id;
      },
      { timeout: 5000, interval: 50 },
    )
    .toBeDefined();
  const detail = await fetch(`${stack.url}/admin/api/calls/${id}`, { headers: bearer });
  expect(detail.status).toBe(200);
  const body = (await detail.json()) as CallDetail;
  expect(body.id).toBe(id);
  return {
    ...body,
    answerText: body.answerText === null ? null : answer === body.answerText ? body.answerText : `mismatch: ${body.answerText}`,
  };
}

// Two real services in one process: slow to start and to answer their first call on a loaded machine.
describe('the prompt and answer text of a call', { timeout: 60_000 }, () => {
  let logging: DashboardStack;
  let quiet: DashboardStack;

  beforeAll(async () => {
    [logging, quiet] = await Promise.all([startDashboardStack({ LLM_LOG_CONTENT: 'true' }), startDashboardStack()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([logging?.close(), quiet?.close()]);
  });

  it('are stored in the ledger and shown in the call detail with LLM_LOG_CONTENT=true', async () => {
    const detail = await callAndOpen(logging, 'What is the capital of Portugal?');
    expect(detail.contentLogged).toBe(true);
    expect(JSON.parse(detail.promptText ?? 'null')).toEqual([{ role: 'user', content: 'What is the capital of Portugal?' }]);
    expect(detail.answerText).not.toBeNull();
    expect(detail.answerText).not.toMatch(/^mismatch/);
    const row = await logging.database.db
      .selectFrom('llm_usage')
      .select(['prompt_text', 'answer_text'])
      .where('id', '=', detail.id)
      .executeTakeFirstOrThrow();
    expect(row.prompt_text).toContain('capital of Portugal');
    expect(row.answer_text).toBe(detail.answerText);
  });

  it('are neither stored nor shown otherwise', async () => {
    const detail = await callAndOpen(quiet, 'What is the capital of Norway?');
    expect(detail).toMatchObject({ contentLogged: false, promptText: null, answerText: null });
    const row = await quiet.database.db
      .selectFrom('llm_usage')
      .select(['prompt_text', 'answer_text'])
      .where('id', '=', detail.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ prompt_text: null, answer_text: null });
    const missing = await fetch(`${quiet.url}/admin/api/calls/999999`, { headers: bearer });
    expect(missing.status).toBe(404);
    const bad = await fetch(`${quiet.url}/admin/api/calls/abc`, { headers: bearer });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/id/);
  });
});
