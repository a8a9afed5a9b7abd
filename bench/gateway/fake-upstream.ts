import { startFakeProviderServer } from '../../src/testing/index.js';

/*
 * The fake provider in a process of its own, so its CPU is neither the gateway's nor the load
 * generator's. Prints its OpenAI base URL on stdout and runs until its parent closes stdin.
 */
const fake = await startFakeProviderServer();
// It records every request; a benchmark sends tens of thousands, none of which is read back.
setInterval(() => {
  fake.requests.length = 0;
}, 1000).unref();
process.stdout.write(`${JSON.stringify({ url: fake.openaiBaseUrl })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void fake.close().then(() => process.exit(0)));
