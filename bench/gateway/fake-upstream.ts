import { type FakeBehaviour, type RecordedRequest, startFakeProviderServer } from '../../src/testing/index.js';

/*
 * The fake provider in a process of its own, so its CPU is neither the gateway's nor the load
 * generator's. Prints its OpenAI base URL on stdout and runs until its parent closes stdin.
 * A prompt that ends in `pieces=N` is answered with N words, streamed as N text deltas; any other
 * with the fake's default answer.
 */
const PIECES = / pieces=(\d+)$/;

function answerFor(request: RecordedRequest): FakeBehaviour {
  const messages = (request.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages;
  const prompt = messages?.at(-1)?.content;
  const asked = typeof prompt === 'string' ? PIECES.exec(prompt) : null;
  if (asked === null) return { type: 'answer' };
  const pieces = Number(asked[1]);
  return { type: 'answer', content: 'word '.repeat(pieces), chunks: pieces };
}

const fake = await startFakeProviderServer({ handler: answerFor });
// It records every request; a benchmark sends tens of thousands, none of which is read back.
setInterval(() => {
  fake.requests.length = 0;
}, 1000).unref();
process.stdout.write(`${JSON.stringify({ url: fake.openaiBaseUrl })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void fake.close().then(() => process.exit(0)));
