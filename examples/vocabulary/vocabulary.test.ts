import { GroundworkError, isLlmUnavailable } from 'groundwork';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExampleHarness, SHORT_TIMEOUTS, startExampleHarness } from '../example-infrastructure.test-helpers.js';
import { translateWord } from './translate-word.js';
import { validateAnswer } from './validate-answer.js';
import { HELLO_IN_RUSSIAN, RIGHT, SYNONYM_ACCEPTED } from './vocabulary-answers.test-helpers.js';

/** The text of every message a recorded request carried. */
function messagesOf(body: unknown): string {
  const messages = (body as { messages?: Array<{ content?: unknown }> }).messages ?? [];
  return messages.map((message) => String(message.content)).join('\n');
}

describe('vocabulary over a fake OpenAI server', () => {
  let harness: ExampleHarness<Record<never, never>>;

  beforeEach(async () => {
    harness = await startExampleHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  describe('translateWord', () => {
    it('returns translations, examples and word forms, and asks with the word and both languages', async () => {
      harness.fake.enqueue({ type: 'answer', json: HELLO_IN_RUSSIAN });
      const translation = await translateWord(harness.infra, '  hello ', 'English', 'Russian');
      expect(translation).toEqual(HELLO_IN_RUSSIAN);
      const [request] = harness.fake.requests;
      expect(messagesOf(request?.body)).toMatch(/English word "hello" into Russian/);
      expect(request?.body).toMatchObject({ response_format: { type: 'json_schema' }, temperature: 0 });
    });

    it('repairs an answer that is not JSON by asking again', async () => {
      harness.fake.enqueue(
        { type: 'answer', content: 'Sure! "hello" is "привет" in Russian.' },
        { type: 'answer', json: HELLO_IN_RUSSIAN },
      );
      await expect(translateWord(harness.infra, 'hello', 'English', 'Russian')).resolves.toEqual(HELLO_IN_RUSSIAN);
      expect(harness.fake.requests).toHaveLength(2);
      expect(messagesOf(harness.fake.requests[1]?.body)).toMatch(/not valid JSON/);
    });

    it('fails with a clear error when the answer keeps breaking the schema', async () => {
      const broken = { word: 'hello', translations: [], examples: 'none' };
      harness.fake.enqueue({ type: 'answer', json: broken }, { type: 'answer', json: broken }, { type: 'answer', json: broken });
      const error = await translateWord(harness.infra, 'hello', 'English', 'Russian').catch((caught: unknown) => caught);
      expect(GroundworkError.isInstance(error) && error.code).toBe('structured_output_invalid');
      expect((error as Error).message).toMatch(/vocabulary\.translate-word.*translations/s);
      expect(isLlmUnavailable(error)).toBe(false);
    });

    it('lets an outage through as an LLM-unavailable error', async () => {
      harness.fake.enqueue({ type: 'error', status: 503 });
      const error = await translateWord(harness.infra, 'hello', 'English', 'Russian').catch((caught: unknown) => caught);
      expect(isLlmUnavailable(error)).toBe(true);
    });

    it('refuses an empty word before calling the LLM', async () => {
      await expect(translateWord(harness.infra, '  ', 'English', 'Russian')).rejects.toThrow(TypeError);
      expect(harness.fake.requests).toHaveLength(0);
    });
  });

  describe('validateAnswer', () => {
    it("returns the model's verdict with source llm", async () => {
      harness.fake.enqueue({ type: 'answer', json: RIGHT });
      await expect(validateAnswer(harness.infra, 'hello', 'привет', 'Привет', 'English', 'Russian')).resolves.toEqual({
        ...RIGHT,
        source: 'llm',
      });
      const prompt = messagesOf(harness.fake.requests[0]?.body);
      expect(prompt).toContain('Expected answer: "привет"');
      expect(prompt).toContain('Learner\'s answer: "Привет"');
    });

    it('lets the model accept a synonym the local check would not', async () => {
      harness.fake.enqueue({ type: 'answer', json: SYNONYM_ACCEPTED });
      const verdict = await validateAnswer(harness.infra, 'hello', 'привет', 'здравствуйте', 'English', 'Russian');
      expect(verdict).toEqual({ ...SYNONYM_ACCEPTED, source: 'llm' });
    });

    it('checks locally while the provider answers 503, and keeps doing so once the breaker opens', async () => {
      harness.fake.setHandler(() => ({ type: 'error', status: 503, message: 'overloaded' }));
      const verdicts = [];
      for (const answer of ['привет', 'превет', 'пока']) {
        verdicts.push(await validateAnswer(harness.infra, 'hello', 'привет', answer, 'English', 'Russian'));
      }
      expect(verdicts.map((verdict) => [verdict.isCorrect, verdict.source])).toEqual([
        [true, 'local'],
        [true, 'local'],
        [false, 'local'],
      ]);
      for (const verdict of verdicts) expect(verdict.comment).toMatch(/^Checked locally/);
      // LLM_CIRCUIT_FAILURE_THRESHOLD=2: the third call never reached the provider.
      expect(harness.fake.requests).toHaveLength(2);
    });

    it('checks locally when the provider hangs past the timeout and deadline', async () => {
      const hanging = await startExampleHarness({ env: SHORT_TIMEOUTS });
      try {
        hanging.fake.enqueue({ type: 'hang' });
        const started = performance.now();
        const verdict = await validateAnswer(hanging.infra, 'hello', 'привет', 'ПРИВЕТ!', 'English', 'Russian');
        expect(verdict).toMatchObject({ isCorrect: true, source: 'local' });
        expect(performance.now() - started).toBeLessThan(2000);
      } finally {
        await hanging.close();
      }
    });

    it('checks locally when the connection is reset', async () => {
      harness.fake.enqueue({ type: 'reset' });
      const verdict = await validateAnswer(harness.infra, 'hello', 'здравствуйте', 'здраствуйте', 'English', 'Russian');
      expect(verdict).toMatchObject({ isCorrect: true, source: 'local' });
      expect(verdict.comment).toMatch(/small typo/);
    });

    it('checks locally when the provider answers with a body that is not JSON', async () => {
      harness.fake.enqueue({ type: 'malformed' });
      const verdict = await validateAnswer(harness.infra, 'hello', 'привет', 'пока', 'English', 'Russian');
      expect(verdict).toMatchObject({ isCorrect: false, source: 'local' });
    });

    it('does not hide errors that are not outages', async () => {
      harness.fake.enqueue({ type: 'error', status: 401, message: 'Incorrect API key provided.' });
      await expect(validateAnswer(harness.infra, 'hello', 'привет', 'привет', 'English', 'Russian')).rejects.toSatisfy(
        (error: unknown) => GroundworkError.isInstance(error) && !isLlmUnavailable(error),
      );
    });
  });
});

describe('vocabulary without an LLM configured', () => {
  let harness: ExampleHarness<Record<never, never>>;

  beforeEach(async () => {
    harness = await startExampleHarness({ env: { LLM_PROVIDER: '', OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('checks answers locally and says so', async () => {
    const verdict = await validateAnswer(harness.infra, 'coffee', 'café', 'cafe', 'English', 'French');
    expect(verdict).toEqual({ isCorrect: true, comment: expect.stringMatching(/^Checked locally.*accents/), source: 'local' });
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('fails translation with an error that names what to set', async () => {
    const error = await translateWord(harness.infra, 'hello', 'English', 'Russian').catch((caught: unknown) => caught);
    expect(isLlmUnavailable(error)).toBe(true);
    expect((error as Error).message).toMatch(/OPENAI_API_KEY/);
  });
});
