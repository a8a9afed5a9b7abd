import type { z } from 'zod';
import { requirePackage } from '../internal/require-package.js';
import type { ResponseFormat } from './types.js';

/**
 * The `json_schema` response format for a zod schema. `strict` is set only when the schema
 * meets OpenAI's strict rules (every object closed, every property required, every value typed,
 * none of the keywords it refuses); otherwise the
 * provider gets the schema as guidance and Groundwork validates the answer.
 */
export function schemaResponseFormat(name: string, schema: z.ZodType): Extract<ResponseFormat, { type: 'json_schema' }> {
  // zod is the application's, already loaded to build `schema`: taken when a schema is given, not at import.
  const { z } = requirePackage<typeof import('zod')>('zod', 'A prompt with a schema');
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  return { type: 'json_schema', name: formatName(name), schema: jsonSchema, strict: isStrictCompatible(jsonSchema) };
}

/** OpenAI allows `^[a-zA-Z0-9_-]{1,64}$` as a schema name. */
function formatName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'answer' : cleaned;
}

/** Keywords OpenAI's strict mode refuses; a schema that uses one is sent as guidance instead. */
const STRICT_REFUSED = ['allOf', 'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas', 'patternProperties'];

/** Keywords that say what a value may be; strict mode refuses a schema (`{}`, what zod makes of `unknown`, `any`, a transform) with none. */
const CONSTRAINING = ['type', 'anyOf', 'oneOf', '$ref', 'enum', 'const'];

/**
 * Whether OpenAI's strict mode accepts the schema: every object closed and requiring all its
 * properties, every schema in it saying what its value may be, and none of the keywords strict
 * mode refuses.
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (typeof schema === 'boolean') return !schema;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return false;
  const node = schema as Record<string, unknown>;
  if (STRICT_REFUSED.some((keyword) => keyword in node)) return false;
  if (!CONSTRAINING.some((keyword) => keyword in node)) return false;
  if (node['type'] === 'object') {
    const properties = (node['properties'] ?? {}) as Record<string, unknown>;
    const required = new Set((node['required'] ?? []) as string[]);
    if (node['additionalProperties'] !== false) return false;
    if (Object.keys(properties).some((key) => !required.has(key))) return false;
  }
  return subschemas(node).every(isStrictCompatible);
}

/** The schemas a schema node holds: its properties', its items', its choices' and its definitions'. */
function subschemas(node: Record<string, unknown>): unknown[] {
  const found: unknown[] = [];
  for (const key of ['properties', '$defs', 'definitions']) {
    const map = node[key];
    if (typeof map === 'object' && map !== null) found.push(...Object.values(map));
  }
  for (const key of ['anyOf', 'oneOf', 'prefixItems']) {
    const list = node[key];
    if (Array.isArray(list)) found.push(...list);
  }
  if (node['items'] !== undefined) found.push(node['items']);
  return found;
}
