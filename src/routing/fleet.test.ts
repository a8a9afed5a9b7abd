import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type ServeFleet, startServeFleet } from '../../test/serve-fleet.js';
import { createInfrastructure } from '../create-infrastructure.js';
import { FakeProviderServer } from '../testing/fake-provider-server.js';

/*
 * Four real `groundwork serve` processes sharing one Redis route a model group of three
 * deployments, each with its own requests-per-window limit (a 4 s window, so the test is short),
 * under 3× the group's capacity: no deployment admits more than its bucket allows, and the group
 * as a whole uses at least 95% of what the three allow together. The window holds 4 s of refill,
 * so a process that stalls for a second on a loaded machine loses none of it (a 1 s window lost
 * up to 7% of the group's allowance to such stalls, while the limits themselves held).
 */
const WINDOW_MS = 4000;
const LIMITS = [8, 12, 20];
const SECONDS = 10;
const API_KEY = 'gw-route-fleet-key-3d9a1c';
/** When each deployment's fake received each call, on this process's clock. */
const arrivals: number[][] = LIMITS.map(() => []);

describe('a model group across serve processes sharing Redis', () => {
  let fleet: ServeFleet;
  let fakes: FakeProviderServer[];
  let database: { url: string; drop(): Promise<void> };
  let directory: string;

  beforeAll(async () => {
    database = await freshDatabase();
    const migrator = await createInfrastructure({ env: { DATABASE_URL: database.url, LOG_LEVEL: 'silent' }, envFile: false });
    await migrator.database.migrate('up');
    await migrator.close();
    fakes = await Promise.all(
      LIMITS.map((_, index) =>
        new FakeProviderServer({
          handler: () => {
            arrivals[index]!.push(performance.now());
            return { type: 'answer', content: 'ok', delayMs: 5 };
          },
        }).start(),
      ),
    );
    directory = await mkdtemp(join(tmpdir(), 'gw-route-fleet-'));
    const routes = join(directory, 'routes.yaml');
    const deployments = LIMITS.map(
      (rpm, index) =>
        `      - name: d${index}\n        provider: openai\n        model: m${index}\n        baseUrl: ${fakes[index]!.openaiBaseUrl}\n        apiKeyEnv: ROUTE_KEY\n        rpm: ${rpm}\n`,
    ).join('');
    await writeFile(routes, `windowMs: ${WINDOW_MS}\ngroups:\n  chat-pool:\n    deployments:\n${deployments}`);
    fleet = await startServeFleet({
      replicas: 4,
      databaseUrl: database.url,
      providerBaseUrl: fakes[0]!.openaiBaseUrl,
      env: {
        GROUNDWORK_ROUTES: routes,
        ROUTE_KEY: 'sk-route-fleet',
        GROUNDWORK_VIRTUAL_KEYS: 'false',
        GROUNDWORK_API_KEYS: API_KEY,
        LLM_RATE_LIMIT_MAX_WAIT_MS: '0',
        LLM_LEDGER: 'false',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await fleet?.close();
    await Promise.all((fakes ?? []).map((fake) => fake.close()));
    await database?.drop();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  }, 60_000);

  it('offers the group as a model', async () => {
    const response = await fetch(`${fleet.urls[0]}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const body = (await response.json()) as { data: Array<{ id: string }> };
    expect(body.data.map((model) => model.id)).toContain('chat-pool');
  });

  it("holds each deployment's limit under 3× overload and uses ≥ 95% of the group's", async () => {
    for (const fake of fakes) fake.reset();
    const capacityPerSecond = LIMITS.reduce((sum, limit) => sum + limit, 0) * (1000 / WINDOW_MS);
    const offeredPerSecond = 3 * capacityPerSecond;
    for (const times of arrivals) times.length = 0;
    const total = offeredPerSecond * SECONDS;
    const started = performance.now();
    const statuses: Promise<number>[] = [];
    for (let index = 0; index < total; index++) {
      const due = started + (index * 1000) / offeredPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const url = fleet.urls[index % fleet.urls.length];
      statuses.push(
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'chat-pool', messages: [{ role: 'user', content: `hi ${index}` }] }),
        }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.status;
          },
          () => -1,
        ),
      );
    }
    const sentAt = performance.now();
    const answered = await Promise.all(statuses);
    const endedSeconds = (performance.now() - started) / 1000;
    const admitted = fakes.map((fake) => fake.requests.filter((request) => request.wire === 'openai').length);
    // Never more than a bucket allows: it starts full and refills at its limit per window.
    for (const [index, count] of admitted.entries()) {
      const allowed = LIMITS[index]! + (LIMITS[index]! * endedSeconds * 1000) / WINDOW_MS;
      expect(count, `deployment d${index}`).toBeLessThanOrEqual(Math.floor(allowed));
    }
    // At least 95% of what the buckets held from each deployment's first call to the last call sent.
    // (Before its first call a bucket is full: while the processes' first calls are slow to arrive on a
    // loaded machine, its refill has nowhere to go, which is no fault of the limiter.)
    const allowedOnceFlowing = LIMITS.map((limit, index) => {
      const first = arrivals[index]![0] ?? sentAt;
      return limit + (limit * Math.max(0, sentAt - first)) / WINDOW_MS;
    });
    const groupAllowed = allowedOnceFlowing.reduce((sum, value) => sum + value, 0);
    const groupAdmitted = admitted.reduce((sum, value) => sum + value, 0);
    console.log(
      `model group over 4 processes, 3× overload: ${groupAdmitted} admitted of ${groupAllowed.toFixed(1)} allowed (${((100 * groupAdmitted) / groupAllowed).toFixed(1)}%), per deployment ${admitted.join('/')} of ${allowedOnceFlowing.map((value) => value.toFixed(1)).join('/')}`,
    );
    expect(groupAdmitted).toBeGreaterThanOrEqual(Math.floor(0.95 * groupAllowed));
    // Every call was answered or refused as over the limits (429). A connection the client reused just as
    // the server closed it (-1) is the HTTP client's, not the router's: rare, and counted.
    const ok = answered.filter((status) => status === 200).length;
    const resets = answered.filter((status) => status === -1).length;
    expect(ok).toBeLessThanOrEqual(groupAdmitted);
    expect(ok + resets).toBeGreaterThanOrEqual(groupAdmitted);
    expect(answered.filter((status) => status !== 200 && status !== 429 && status !== -1)).toEqual([]);
    expect(resets).toBeLessThanOrEqual(Math.ceil(total / 100));
  }, 120_000);
});
