import { type FakeProviderServer, startFakeProviderServer } from 'groundwork/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedIo } from '../example-cli.test-helpers.js';
import { FAST_RESILIENCE } from '../example-infrastructure.test-helpers.js';
import { HELLO_IN_RUSSIAN, RIGHT } from './vocabulary-answers.test-helpers.js';
import { runVocabularyCli } from './vocabulary-cli.js';
import { parseVocabularyCommand } from './vocabulary-command.js';

const BASE_ENV = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:', LLM_CACHE: 'off', ...FAST_RESILIENCE };

describe('parseVocabularyCommand', () => {
  it('reads translate and check', () => {
    expect(parseVocabularyCommand(['translate', 'hello', '--to', 'Russian'])).toEqual({
      kind: 'translate',
      word: 'hello',
      from: 'English',
      to: 'Russian',
    });
    expect(
      parseVocabularyCommand(['check', 'привет', '--expected', 'привет', '--question', 'hello', '--from', 'English', '--to', 'Russian']),
    ).toEqual({
      kind: 'check',
      answer: 'привет',
      expected: 'привет',
      question: 'hello',
      from: 'English',
      to: 'Russian',
    });
  });

  it('names what is missing or unknown', () => {
    expect(parseVocabularyCommand(['translate', 'hello'])).toEqual({ kind: 'invalid', problem: 'Missing --to.' });
    expect(parseVocabularyCommand(['check', 'привет', '--to', 'Russian'])).toEqual({
      kind: 'invalid',
      problem: 'Missing --expected, --question.',
    });
    expect(parseVocabularyCommand(['conjugate', 'be'])).toMatchObject({
      kind: 'invalid',
      problem: expect.stringMatching(/Unknown command "conjugate"/),
    });
    expect(parseVocabularyCommand(['translate', 'hello', '--colour', 'red'])).toMatchObject({ kind: 'invalid' });
  });

  it('refuses a blank option rather than asking about nothing', () => {
    expect(parseVocabularyCommand(['translate', 'hello', '--to', ' '])).toEqual({ kind: 'invalid', problem: 'Missing --to.' });
    expect(parseVocabularyCommand(['translate', 'hello', '--from', '', '--to', 'Russian'])).toEqual({
      kind: 'invalid',
      problem: 'Missing --from.',
    });
    expect(parseVocabularyCommand(['check', 'привет', '--expected', '', '--question', ' ', '--to', 'Russian'])).toEqual({
      kind: 'invalid',
      problem: 'Missing --expected, --question.',
    });
  });
});

describe('the vocabulary CLI', () => {
  let fake: FakeProviderServer;

  beforeEach(async () => {
    fake = await startFakeProviderServer();
  });

  afterEach(async () => {
    await fake.close();
  });

  const withLlm = () => ({
    env: { ...BASE_ENV, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.openaiBaseUrl },
    envFile: false as const,
  });
  const withoutLlm = () => ({ env: BASE_ENV, envFile: false as const });

  it('prints a translation', async () => {
    fake.enqueue({ type: 'answer', json: HELLO_IN_RUSSIAN });
    const io = bufferedIo();
    const code = await runVocabularyCli({
      args: ['translate', 'hello', '--from', 'English', '--to', 'Russian'],
      io,
      infrastructure: withLlm(),
    });
    expect(code).toBe(0);
    expect(io.stdout()).toContain('hello (English → Russian)');
    expect(io.stdout()).toContain('Translations: привет, здравствуйте');
    expect(io.stdout()).toContain('Hello, how are you? — Привет, как дела?');
    expect(io.stdout()).toContain('plural: hellos');
  });

  it("prints the model's verdict", async () => {
    fake.enqueue({ type: 'answer', json: RIGHT });
    const io = bufferedIo();
    const args = ['check', 'привет', '--expected', 'привет', '--question', 'hello', '--from', 'English', '--to', 'Russian'];
    expect(await runVocabularyCli({ args, io, infrastructure: withLlm() })).toBe(0);
    expect(io.stdout()).toBe('✓ Correct: Правильно!\n  judged by the LLM (openai/gpt-4o-mini)');
  });

  it('says exactly what to set when translating without an LLM', async () => {
    const io = bufferedIo();
    expect(await runVocabularyCli({ args: ['translate', 'hello', '--to', 'Russian'], io, infrastructure: withoutLlm() })).toBe(2);
    expect(io.stderr()).toMatch(/No LLM is configured\. Set, in the environment or in \.env:\n\s+OPENAI_API_KEY=/);
  });

  it('says what to set, before touching the database, when translating without an LLM', async () => {
    const io = bufferedIo();
    // A database that cannot be reached: translating without an LLM must not need it to say what to set.
    const infrastructure = { env: { ...BASE_ENV, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' }, envFile: false as const };
    expect(await runVocabularyCli({ args: ['translate', 'hello', '--to', 'Russian'], io, infrastructure })).toBe(2);
    expect(io.stderr()).toMatch(/^No LLM is configured\./);
  });

  it('checks locally without an LLM and says what to set', async () => {
    const io = bufferedIo();
    const args = ['check', 'Превет', '--expected', 'привет', '--question', 'hello', '--to', 'Russian'];
    expect(await runVocabularyCli({ args, io, infrastructure: withoutLlm() })).toBe(0);
    expect(io.stdout()).toMatch(/^✓ Correct: Checked locally .*small typo.*\n {2}judged by the local check$/);
    expect(io.stderr()).toContain('OPENAI_API_KEY');
  });

  it('reports a configuration error by variable', async () => {
    const io = bufferedIo();
    const infrastructure = { env: { ...BASE_ENV, LLM_PROVIDER: 'anthropic' }, envFile: false as const };
    expect(await runVocabularyCli({ args: ['translate', 'hello', '--to', 'Russian'], io, infrastructure })).toBe(2);
    expect(io.stderr()).toMatch(/ANTHROPIC_API_KEY/);
  });

  it('prints usage on a bad command line', async () => {
    const io = bufferedIo();
    expect(await runVocabularyCli({ args: ['translate'], io })).toBe(2);
    expect(io.stderr()).toMatch(/Missing <word>, --to\.\n\nUsage:/);
  });
});
