/*
 * Validates values against a component schema of OpenAI's API description
 * (`../shared/contracts/openai-openapi.yaml`, beside the repository, as CI checks it out).
 *
 * The description is OpenAPI 3.1 with some 3.0 leftovers: `nullable: true` is rewritten to an
 * `anyOf` with `{ type: 'null' }` before compiling, and every component is registered under its
 * `#/components/schemas/...` reference, so one schema's references resolve to the others.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

/** Where the description lives, resolved from this file (so any working directory works). */
export const OPENAI_SPEC_URL = new URL('../../shared/contracts/openai-openapi.yaml', import.meta.url);

/** The id under which the components are registered; references are rewritten onto it. */
const SPEC_ID = 'openai-openapi';

let compiler: { ajv: Ajv2020; names: Set<string> } | undefined;
const validators = new Map<string, ValidateFunction>();

/**
 * The problems `value` has against the component schema `name` (e.g. `CreateChatCompletionResponse`),
 * each as `path: message`; empty when it is valid. Throws when the spec has no such schema.
 */
export function validateOpenAiSchema(name: string, value: unknown): string[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describe);
}

function validatorFor(name: string): ValidateFunction {
  const cached = validators.get(name);
  if (cached !== undefined) return cached;
  const { ajv, names } = loadCompiler();
  if (!names.has(name)) throw new Error(`The OpenAI spec has no component schema named ${name}.`);
  const validate = ajv.getSchema(`${SPEC_ID}#/components/schemas/${name}`);
  if (validate === undefined) throw new Error(`Could not compile the OpenAI schema ${name}.`);
  validators.set(name, validate);
  return validate;
}

function loadCompiler(): { ajv: Ajv2020; names: Set<string> } {
  if (compiler !== undefined) return compiler;
  const spec = parse(readFileSync(OPENAI_SPEC_URL, 'utf8'), { maxAliasCount: -1 }) as {
    components?: { schemas?: Record<string, unknown> };
  };
  const schemas = spec.components?.schemas;
  if (schemas === undefined) throw new Error(`${OPENAI_SPEC_URL.pathname} has no components.schemas.`);
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: normalize(schemas) } });
  compiler = { ajv, names: new Set(Object.keys(schemas)) };
  return compiler;
}

/** Rewrites OpenAPI's `nullable: true` into JSON Schema and points `#/components/...` references at the registered spec. */
function normalize(node: unknown): Record<string, unknown> {
  return rewrite(node) as Record<string, unknown>;
}

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) result[key] = `${SPEC_ID}${value}`;
    else if (!(key === 'nullable' && typeof value === 'boolean')) result[key] = rewrite(value);
  }
  if ((node as { nullable?: unknown }).nullable !== true) return result;
  return { anyOf: [result, { type: 'null' }] };
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.keyword === 'additionalProperties' ? ` (${String(error.params['additionalProperty'])})` : '';
  return `${where}: ${error.message ?? error.keyword}${params}`;
}
