import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error.js';
import { CANARY_KEY } from '../llm/llm.test-helpers.js';
import { loadRoutes } from './load-routes.js';
import { groupCallTargets } from './router.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-routes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ConfigError.isInstance(error), String(error)).toBe(true);
  return error as ConfigError;
}

const YAML = `
strategy: least-busy
groups:
  chat-fast:
    strategy: lowest-latency
    fallbacks: [chat-safe]
    deployments:
      - name: eu
        provider: openai
        model: gpt-4o-mini
        apiKeyEnv: OPENAI_KEY_EU
        baseUrl: http://127.0.0.1:9/v1
        rpm: 500
        tpm: 100000
        maxConcurrent: 20
        weight: 2
      - name: us
        provider: azure
        model: gpt4o-mini-us
        endpoint: https://example.openai.azure.com
        apiKeyFile: KEYFILE
  chat-safe:
    deployments:
      - provider: bedrock
        model: anthropic.claude-3-5-haiku-20241022-v1:0
        region: eu-west-1
`;

describe('loadRoutes', () => {
  it('reads a YAML file: groups, deployments, secrets by variable and by file, defaults', async () => {
    const keyFile = await file('azure-key', `${CANARY_KEY}-azure\n`);
    const path = await file('routes.yaml', YAML.replace('KEYFILE', keyFile));
    const routes = await loadRoutes(path, { env: { OPENAI_KEY_EU: CANARY_KEY } });
    const fast = routes.groups['chat-fast']!;
    expect(fast.strategy).toBe('lowest-latency');
    expect(fast.fallbacks).toEqual(['chat-safe']);
    expect(fast.deployments.map((deployment) => deployment.name)).toEqual(['eu', 'us']);
    expect(fast.deployments[0]).toMatchObject({ rpm: 500, tpm: 100_000, maxConcurrent: 20, weight: 2 });
    expect(fast.deployments[0]!.apiKey?.reveal()).toBe(CANARY_KEY);
    expect(fast.deployments[1]!.apiKey?.reveal()).toBe(`${CANARY_KEY}-azure`);
    const safe = routes.groups['chat-safe']!;
    expect(safe.strategy).toBe('least-busy');
    expect(safe.deployments[0]).toMatchObject({ name: 'bedrock-1', region: 'eu-west-1', weight: 1 });
    expect(routes.windowMs).toBe(60_000);
    // The secrets canary: the parsed routes never show a key.
    expect(inspect(routes, { depth: 10 })).not.toContain(CANARY_KEY);
    expect(JSON.stringify(routes)).not.toContain(CANARY_KEY);
  });

  it('freezes what it reads through and through, so that its call targets are built once', async () => {
    const keyFile = await file('azure-key-frozen', `${CANARY_KEY}-azure\n`);
    const routes = await loadRoutes(await file('frozen.yaml', YAML.replace('KEYFILE', keyFile)), { env: { OPENAI_KEY_EU: CANARY_KEY } });
    const first = groupCallTargets(routes.groups, 'chat-fast');
    expect(first?.map((target) => target.deployment)).toEqual(['eu', 'us', 'bedrock-1']);
    const second = groupCallTargets(routes.groups, 'chat-fast');
    expect(second).not.toBe(first);
    second?.forEach((target, index) => {
      expect(target).toBe(first?.[index]);
      expect(Object.isFrozen(target)).toBe(true);
    });
  });

  it('reads a key from the _FILE variant of the variable named', async () => {
    const keyFile = await file('eu-key', CANARY_KEY);
    const path = await file(
      'file-variant.json',
      JSON.stringify({ groups: { g: { deployments: [{ provider: 'openai', model: 'm', apiKeyEnv: 'OPENAI_KEY_EU' }] } } }),
    );
    const routes = await loadRoutes(path, { env: { OPENAI_KEY_EU_FILE: keyFile } });
    expect(routes.groups.g!.deployments[0]!.apiKey?.reveal()).toBe(CANARY_KEY);
  });

  it('names every problem at once, each with the file and the field path', async () => {
    const path = await file(
      'bad.json',
      JSON.stringify({
        strategy: 'fastest',
        extra: true,
        groups: {
          'chat-fast': {
            fallbacks: ['nowhere'],
            deployments: [
              { name: 'eu', provider: 'openia', model: 'm', apiKeyEnv: 'MISSING_KEY', rpm: -1, weight: 0 },
              { name: 'eu', provider: 'azure', model: 'd', apiKeyEnv: 'OPENAI_KEY_EU' },
            ],
          },
          empty: { deployments: [] },
        },
      }),
    );
    const error = await refusal(loadRoutes(path, { env: { OPENAI_KEY_EU: CANARY_KEY } }));
    const where = error.issues.map((issue) => issue.variable.replace(`${path}: `, ''));
    expect(where).toEqual(
      expect.arrayContaining([
        'extra',
        'strategy',
        'groups.chat-fast.fallbacks[0]',
        'groups.chat-fast.deployments[0].provider',
        'groups.chat-fast.deployments[0].apiKeyEnv',
        'groups.chat-fast.deployments[0].rpm',
        'groups.chat-fast.deployments[0].weight',
        'groups.chat-fast.deployments[1].endpoint',
        'groups.empty.deployments',
      ]),
    );
    expect(error.issues.every((issue) => issue.variable.startsWith(`${path}: `))).toBe(true);
    expect(error.message).toContain(`${path}: groups.chat-fast.deployments[0].rpm: must be a whole number of at least 1`);
    expect(error.message).toContain('names MISSING_KEY, which is not set');
    expect(error.message).not.toContain(CANARY_KEY);
  });

  it('refuses a / in a deployment name, which would make two deployments share their circuit and limits', async () => {
    const path = await file(
      'slash.json',
      JSON.stringify({
        groups: {
          eu: { deployments: [{ name: 'a/b', provider: 'openai', model: 'gpt-4o-mini', rpm: 1, apiKeyEnv: 'OPENAI_KEY_EU' }] },
          'eu/a': { deployments: [{ name: 'b', provider: 'openai', model: 'gpt-4o', apiKeyEnv: 'OPENAI_KEY_EU' }] },
        },
      }),
    );
    const error = await refusal(loadRoutes(path, { env: { OPENAI_KEY_EU: CANARY_KEY } }));
    expect(error.issues.map((issue) => issue.variable.replace(`${path}: `, ''))).toEqual(['groups.eu.deployments[0].name']);
    expect(error.message).toContain('deployment names are letters, digits and . _ : - (no /');
  });

  it('refuses a secret written in the file, without repeating it', async () => {
    const path = await file(
      'inline.yaml',
      `groups:\n  g:\n    deployments:\n      - provider: openai\n        model: m\n        apiKey: ${CANARY_KEY}\n`,
    );
    const error = await refusal(loadRoutes(path, { env: {} }));
    expect(error.message).toContain('groups.g.deployments[0].apiKey: secrets are never written in the routes file: use apiKeyEnv');
    expect(error.message).not.toContain(CANARY_KEY);
    expect(inspect(error)).not.toContain(CANARY_KEY);
  });

  it('says when the file cannot be read or parsed', async () => {
    expect((await refusal(loadRoutes(join(dir, 'absent.yaml')))).message).toContain('cannot be read (ENOENT)');
    expect((await refusal(loadRoutes(await file('broken.json', '{ nope')))).message).toContain('is not valid JSON');
    expect((await refusal(loadRoutes(await file('routes.toml', '')))).message).toContain('must name a .json, .yaml or .yml file');
  });
});
