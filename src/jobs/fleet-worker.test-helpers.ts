/*
 * One worker process of the fleet test (fleet.test.ts): works the `fleet-echo` prompt jobs of
 * the database in DATABASE_URL until SIGTERM, then stops gracefully and exits 0.
 */
import { createInfrastructure } from '../create-infrastructure.js';
import { definePrompt } from '../llm/prompt.js';
import { silentLogger } from '../observability/logger.js';

export const fleetPrompt = definePrompt({ name: 'fleet-echo', version: 1, template: 'Echo {{n}}.' });

if (process.argv[1]?.endsWith('fleet-worker.test-helpers.ts')) {
  const infra = await createInfrastructure({ logger: silentLogger(), envFile: false });
  const worker = infra.jobs.work({ concurrency: Number(process.env.FLEET_CONCURRENCY ?? 8), prompts: [fleetPrompt] });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void worker
      .stop()
      .then(() => infra.close())
      .then(() => process.exit(0));
  });
}
