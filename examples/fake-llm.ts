/**
 * A local stand-in for OpenAI with canned answers for the examples, so they run without an API
 * key: `npx tsx examples/fake-llm.ts`, then use the two variables it prints. It is Groundwork's
 * test server (`groundwork/testing`) with a handler that answers by the prompt's schema name.
 * @module
 */
import { type RecordedRequest, startFakeProviderServer } from 'groundwork/testing';

const HELLO = {
  word: 'hello',
  translations: ['привет', 'здравствуйте'],
  examples: [{ source: 'Hello, how are you?', target: 'Привет, как дела?' }],
  wordForms: [{ form: 'plural', value: 'hellos' }],
};

/** The canned answer for a request, chosen by the `json_schema` name its prompt sent. */
function cannedAnswer(request: RecordedRequest): unknown {
  const body = (request.body ?? {}) as { response_format?: { json_schema?: { name?: string } }; messages?: Array<{ content?: string }> };
  const schema = body.response_format?.json_schema?.name ?? '';
  const text = (body.messages ?? []).map((message) => message.content ?? '').join('\n');
  if (schema.includes('translate-word')) {
    const word = /word "([^"]+)"/.exec(text)?.[1] ?? 'hello';
    return word.toLowerCase() === 'hello' ? HELLO : { word, translations: [`${word} (canned)`], examples: [], wordForms: [] };
  }
  if (schema.includes('validate-answer')) {
    const expected = /Expected answer: "([^"]*)"/.exec(text)?.[1] ?? '';
    const answer = /Learner's answer: "([^"]*)"/.exec(text)?.[1] ?? '';
    const isCorrect = expected.trim().toLowerCase() === answer.trim().toLowerCase();
    return { isCorrect, comment: isCorrect ? 'Правильно!' : `Неверно: правильный ответ «${expected}».` };
  }
  if (schema.includes('generate-mcq')) {
    const topic = /about "([^"]+)"/.exec(text)?.[1] ?? 'the topic';
    const count = Number(/Write (\d+)/.exec(text)?.[1] ?? '3');
    return {
      questions: Array.from({ length: count }, (_, index) => ({
        question: `Canned question ${index + 1} about ${topic}?`,
        options: ['The right answer', 'A wrong answer', 'Another wrong answer', 'None of these'],
        correctIndex: 0,
        explanation: 'This is a canned answer from examples/fake-llm.ts.',
      })),
    };
  }
  return undefined;
}

const fake = await startFakeProviderServer({
  handler: (request) => {
    const json = cannedAnswer(request);
    return json === undefined ? { type: 'answer', content: 'ok' } : { type: 'answer', json };
  },
});
process.stdout.write(
  `Fake OpenAI server listening. In another terminal:\n\n  export OPENAI_API_KEY=fake-key OPENAI_BASE_URL=${fake.openaiBaseUrl}\n\nStop it with Ctrl+C.\n`,
);
const stop = (): void => void fake.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
