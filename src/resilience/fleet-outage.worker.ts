/*
 * One replica of the fleet-outage test: the facade, configured from its environment only (REDIS_URL,
 * LLM_REQUESTS_PER_MINUTE, LLM_EXPECTED_REPLICAS, LLM_RATE_LIMIT_ON_STORE_FAILURE…), calling the fake
 * provider. It makes one call (so that everything is loaded, and Redis is known to be in use) and prints
 * `ready`; on a line `go END_AT` on stdin it offers one call after another (a short pause between them)
 * until END_AT (ms since the epoch), then prints one JSON line: `{ admittedAt: number[], refusedAt:
 * Record<code, number[]> }`, the times (ms since the epoch) at which each call was answered or refused.
 *
 *   node --import tsx fleet-outage.worker.ts   (everything else comes from the environment)
 */
import { createInterface } from 'node:readline';
import { createInfrastructure } from '../create-infrastructure.js';

const infrastructure = await createInfrastructure({ envFile: false });
await infrastructure.llm.complete({ messages: [{ role: 'user', content: `replica ${process.pid} warming up` }] });
process.stdout.write('ready\n');

const lines = createInterface({ input: process.stdin });
const go = await new Promise<string>((resolve) => lines.once('line', resolve));
lines.close();
const endAt = Number(go.split(' ')[1]);

const admittedAt: number[] = [];
const refusedAt: Record<string, number[]> = {};
for (let index = 0; Date.now() < endAt; index++) {
  try {
    await infrastructure.llm.complete({ messages: [{ role: 'user', content: `replica ${process.pid} call ${index}` }] });
    admittedAt.push(Date.now());
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    refusedAt[code] = [...(refusedAt[code] ?? []), Date.now()];
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
process.stdout.write(`${JSON.stringify({ admittedAt, refusedAt })}\n`);
await infrastructure.close();
