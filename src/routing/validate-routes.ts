import { readFile } from 'node:fs/promises';
import { Secret } from '../config/secret.js';
import { LLM_PROVIDERS, type LlmProviderName } from '../config/variables.js';
import type { ConfigIssue } from '../errors/config-error.js';
import {
  type DeploymentConfig,
  type ModelGroupConfig,
  ROUTING_STRATEGIES,
  type RoutesConfig,
  type RoutingStrategyName,
} from './routes-config.js';

/** The strategy a group uses when neither it nor the file names one (the routing benchmark's best). */
export const DEFAULT_STRATEGY: RoutingStrategyName = 'weighted-random';

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
/** A group's name and a deployment's are joined by `/` in the deployment's keys: only the group's may hold one. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOP_FIELDS = new Set(['strategy', 'windowMs', 'groups']);
const GROUP_FIELDS = new Set(['strategy', 'deployments', 'fallbacks']);
const DEPLOYMENT_FIELDS = new Set([
  'name',
  'provider',
  'model',
  'apiKeyEnv',
  'apiKeyFile',
  'baseUrl',
  'endpoint',
  'apiVersion',
  'region',
  'accessKeyIdEnv',
  'secretAccessKeyEnv',
  'rpm',
  'tpm',
  'maxConcurrent',
  'weight',
]);
/** Fields that would hold a secret written into the file: refused, with what to write instead. */
const INLINE_SECRETS: Record<string, string> = {
  apiKey: 'apiKeyEnv (an environment variable) or apiKeyFile',
  api_key: 'apiKeyEnv (an environment variable) or apiKeyFile',
  key: 'apiKeyEnv (an environment variable) or apiKeyFile',
  token: 'apiKeyEnv (an environment variable) or apiKeyFile',
  password: 'apiKeyEnv (an environment variable) or apiKeyFile',
  secret: 'apiKeyEnv (an environment variable) or apiKeyFile',
  accessKeyId: 'accessKeyIdEnv (an environment variable)',
  secretAccessKey: 'secretAccessKeyEnv (an environment variable)',
  sessionToken: 'the standard AWS credential chain',
};

interface Context {
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  issues: ConfigIssue[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a parsed routes file and builds its {@link RoutesConfig}, adding every problem to
 * `context.issues` (and answering undefined when there are any). Never puts a secret in a message.
 */
export async function validateRoutes(raw: unknown, context: Context): Promise<RoutesConfig | undefined> {
  const problem = (path: string, message: string, example?: string): void => {
    const issue: ConfigIssue = { variable: `${context.file}: ${path}`, message };
    if (example !== undefined) issue.example = example;
    context.issues.push(issue);
  };
  if (!isRecord(raw)) {
    problem('(top level)', 'must be an object with a `groups` field');
    return undefined;
  }
  for (const field of Object.keys(raw))
    if (!TOP_FIELDS.has(field)) problem(field, `is not a routes file field (expected ${[...TOP_FIELDS].join(', ')})`);
  const fileStrategy = strategyOf(raw.strategy, 'strategy', problem) ?? DEFAULT_STRATEGY;
  const windowMs = raw.windowMs === undefined ? 60_000 : wholeNumber(raw.windowMs, 'windowMs', problem, 100);
  const groups: Record<string, ModelGroupConfig> = {};
  if (!isRecord(raw.groups) || Object.keys(raw.groups).length === 0) {
    problem('groups', 'must map at least one group name to its deployments', 'chat-fast: { deployments: [...] }');
    return undefined;
  }
  const names = Object.keys(raw.groups);
  for (const [name, group] of Object.entries(raw.groups)) {
    const path = `groups.${name}`;
    if (!GROUP_NAME.test(name)) problem(path, 'group names are letters, digits and . _ : / - (at most 128)', 'chat-fast');
    if (!isRecord(group)) {
      problem(path, 'must be an object with `deployments`');
      continue;
    }
    for (const field of Object.keys(group))
      if (!GROUP_FIELDS.has(field)) problem(`${path}.${field}`, `is not a group field (expected ${[...GROUP_FIELDS].join(', ')})`);
    const strategy = strategyOf(group.strategy, `${path}.strategy`, problem) ?? fileStrategy;
    const fallbacks: string[] = [];
    if (group.fallbacks !== undefined) {
      if (!Array.isArray(group.fallbacks)) problem(`${path}.fallbacks`, 'must be a list of group names', '[chat-safe]');
      else
        for (const [index, fallback] of group.fallbacks.entries()) {
          if (typeof fallback !== 'string' || !names.includes(fallback))
            problem(`${path}.fallbacks[${index}]`, `must name another group of this file (${names.join(', ')})`);
          else if (fallback === name) problem(`${path}.fallbacks[${index}]`, 'must not name the group itself');
          else fallbacks.push(fallback);
        }
    }
    const deployments: DeploymentConfig[] = [];
    if (!Array.isArray(group.deployments) || group.deployments.length === 0) {
      problem(`${path}.deployments`, 'must list at least one deployment');
    } else {
      const seen = new Set<string>();
      for (const [index, entry] of group.deployments.entries()) {
        const deployment = await deploymentOf(entry, name, index, `${path}.deployments[${index}]`, context, problem);
        if (deployment === undefined) continue;
        if (seen.has(deployment.name)) problem(`${path}.deployments[${index}].name`, `"${deployment.name}" is used twice in this group`);
        seen.add(deployment.name);
        deployments.push(deployment);
      }
    }
    groups[name] = Object.freeze({ name, strategy, deployments: Object.freeze(deployments), fallbacks: Object.freeze(fallbacks) });
  }
  if (context.issues.length > 0 || windowMs === undefined) return undefined;
  return Object.freeze({ file: context.file, windowMs, groups: Object.freeze(groups) });
}

type Problem = (path: string, message: string, example?: string) => void;

function strategyOf(value: unknown, path: string, problem: Problem): RoutingStrategyName | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (ROUTING_STRATEGIES as readonly string[]).includes(value)) return value as RoutingStrategyName;
  problem(path, `must be one of ${ROUTING_STRATEGIES.join(', ')}`, DEFAULT_STRATEGY);
  return undefined;
}

function wholeNumber(value: unknown, path: string, problem: Problem, min = 1): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  problem(path, `must be a whole number of at least ${min}`);
  return undefined;
}

function optionalText(value: unknown, path: string, problem: Problem): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  problem(path, 'must be a non-empty string');
  return undefined;
}

async function deploymentOf(
  entry: unknown,
  group: string,
  index: number,
  path: string,
  context: Context,
  problem: Problem,
): Promise<DeploymentConfig | undefined> {
  if (!isRecord(entry)) {
    problem(path, 'must be an object with provider and model');
    return undefined;
  }
  const before = context.issues.length;
  for (const field of Object.keys(entry)) {
    const instead = INLINE_SECRETS[field];
    if (instead !== undefined) problem(`${path}.${field}`, `secrets are never written in the routes file: use ${instead}`);
    else if (!DEPLOYMENT_FIELDS.has(field)) problem(`${path}.${field}`, 'is not a deployment field');
  }
  const provider = entry.provider;
  if (typeof provider !== 'string' || !(LLM_PROVIDERS as readonly string[]).includes(provider)) {
    problem(`${path}.provider`, `must be one of ${LLM_PROVIDERS.join(', ')}`, 'openai');
  }
  const model = optionalText(entry.model, `${path}.model`, problem);
  if (model === undefined && entry.model === undefined) problem(`${path}.model`, 'is required (Azure: the deployment name)', 'gpt-4o-mini');
  const name = entry.name === undefined ? `${provider}-${index + 1}` : optionalText(entry.name, `${path}.name`, problem);
  if (name !== undefined && !DEPLOYMENT_NAME.test(name)) {
    problem(
      `${path}.name`,
      `deployment names are letters, digits and . _ : - (no /, which joins the group's name to the deployment's in the keys ` +
        `of its circuit and limits: "${group}" with "${name}" could be another group's deployment; at most 128)`,
      'openai-eu',
    );
  }
  const url = (field: string): string | undefined => {
    const value = optionalText(entry[field], `${path}.${field}`, problem);
    if (value !== undefined && !URL.canParse(value)) problem(`${path}.${field}`, 'must be an absolute URL', 'https://api.openai.com/v1');
    return value;
  };
  const baseUrl = url('baseUrl');
  const endpoint = url('endpoint');
  const apiVersion = optionalText(entry.apiVersion, `${path}.apiVersion`, problem);
  const region = optionalText(entry.region, `${path}.region`, problem);
  const secretName = `${group}/${name ?? index}`;
  let apiKey: Secret | undefined;
  if (entry.apiKeyEnv !== undefined && entry.apiKeyFile !== undefined)
    problem(`${path}.apiKeyFile`, 'is set together with apiKeyEnv; set only one');
  else if (entry.apiKeyEnv !== undefined) apiKey = await fromEnv(entry.apiKeyEnv, `${path}.apiKeyEnv`, context, problem);
  else if (entry.apiKeyFile !== undefined)
    apiKey = await fromFile(entry.apiKeyFile, `${path}.apiKeyFile`, `${secretName}.apiKeyFile`, problem);
  const accessKeyId =
    entry.accessKeyIdEnv === undefined ? undefined : await fromEnv(entry.accessKeyIdEnv, `${path}.accessKeyIdEnv`, context, problem);
  const secretAccessKey =
    entry.secretAccessKeyEnv === undefined
      ? undefined
      : await fromEnv(entry.secretAccessKeyEnv, `${path}.secretAccessKeyEnv`, context, problem);
  if ((entry.accessKeyIdEnv === undefined) !== (entry.secretAccessKeyEnv === undefined)) {
    problem(
      `${path}.${entry.accessKeyIdEnv === undefined ? 'accessKeyIdEnv' : 'secretAccessKeyEnv'}`,
      'accessKeyIdEnv and secretAccessKeyEnv go together',
    );
  }
  const limit = (field: string): number | undefined =>
    entry[field] === undefined ? undefined : wholeNumber(entry[field], `${path}.${field}`, problem);
  const rpm = limit('rpm');
  const tpm = limit('tpm');
  const maxConcurrent = limit('maxConcurrent');
  let weight = 1;
  if (entry.weight !== undefined) {
    if (typeof entry.weight === 'number' && Number.isFinite(entry.weight) && entry.weight > 0) weight = entry.weight;
    else problem(`${path}.weight`, 'must be a number above 0', '2');
  }
  if (typeof provider === 'string') {
    if (provider === 'azure' && endpoint === undefined)
      problem(`${path}.endpoint`, 'is required for azure', 'https://my-resource.openai.azure.com');
    if (provider === 'openai-compatible' && baseUrl === undefined)
      problem(`${path}.baseUrl`, 'is required for openai-compatible', 'http://localhost:8000/v1');
    if (provider === 'bedrock' && region === undefined) problem(`${path}.region`, 'is required for bedrock', 'eu-west-1');
    const needsKey = provider === 'openai' || provider === 'anthropic' || provider === 'azure' || provider === 'gemini';
    if (needsKey && entry.apiKeyEnv === undefined && entry.apiKeyFile === undefined) {
      problem(`${path}.apiKeyEnv`, `is required for ${provider} (or apiKeyFile)`, 'OPENAI_KEY_EU');
    }
  }
  if (context.issues.length > before || model === undefined || name === undefined) return undefined;
  return Object.freeze({
    name,
    group,
    provider: provider as LlmProviderName,
    model,
    apiKey,
    baseUrl,
    endpoint,
    apiVersion,
    region,
    accessKeyId,
    secretAccessKey,
    rpm,
    tpm,
    maxConcurrent,
    weight,
  });
}

/** A secret named by environment variable, or read from the file that variable's `_FILE` names. */
async function fromEnv(value: unknown, path: string, context: Context, problem: Problem): Promise<Secret | undefined> {
  if (typeof value !== 'string' || !ENV_NAME.test(value)) {
    problem(path, 'must be the name of an environment variable', 'OPENAI_KEY_EU');
    return undefined;
  }
  const direct = context.env[value];
  if (direct !== undefined && direct.trim() !== '') return new Secret(value, direct.trim());
  const file = context.env[`${value}_FILE`];
  if (file !== undefined && file.trim() !== '') return fromFile(file.trim(), path, `${value}_FILE`, problem);
  problem(path, `names ${value}, which is not set (nor ${value}_FILE)`);
  return undefined;
}

async function fromFile(value: unknown, path: string, variable: string, problem: Problem): Promise<Secret | undefined> {
  if (typeof value !== 'string' || value.trim() === '') {
    problem(path, 'must be the path of a file holding the key', '/run/secrets/openai_key_eu');
    return undefined;
  }
  try {
    const text = (await readFile(value.trim(), 'utf8')).replace(/\r?\n$/, '').trim();
    if (text === '') {
      problem(path, 'names an empty file');
      return undefined;
    }
    return new Secret(variable, text);
  } catch (error) {
    problem(path, `names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    return undefined;
  }
}
