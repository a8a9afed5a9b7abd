import type { z } from 'zod';
import { requirePackage } from '../internal/require-package.js';
import type { ResponseFormat } from './types.js';

/**
 * The `json_schema` response format for a zod schema. `strict` is set only when the schema
 * meets OpenAI's strict rules (every object closed, every property required); otherwise the
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

/** Whether every object in the schema is closed and requires all its properties. */
export function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (typeof schema !== 'object' || schema === null) return true;
  const node = schema as Record<string, unknown>;
  if (node['type'] === 'object') {
    const properties = (node['properties'] ?? {}) as Record<string, unknown>;
    const required = new Set((node['required'] ?? []) as string[]);
    if (node['additionalProperties'] !== false) return false;
    if (Object.keys(properties).some((key) => !required.has(key))) return false;
  }
  return Object.values(node).every(isStrictCompatible);
}
