import type { ChatRequest } from './types.js';

/*
 * Most requests are plain: a model, a few text messages, perhaps a temperature or an output
 * maximum. For those, a handful of `typeof` checks decide what the request schema would, at a
 * fraction of its cost on a served call. Whatever this check does not recognise, valid or not,
 * goes to the schema, which alone words the errors.
 */

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

type FieldCheck = (value: unknown) => boolean;

const isNumberIn =
  (low: number, high: number): FieldCheck =>
  (value) =>
    typeof value === 'number' && value >= low && value <= high;

const PLAIN_FIELDS: ReadonlyMap<string, FieldCheck> = new Map<string, FieldCheck>([
  ['model', (value) => typeof value === 'string' && value.length > 0],
  ['messages', (value) => Array.isArray(value) && value.length > 0 && value.every(isPlainMessage)],
  ['temperature', isNumberIn(0, 2)],
  ['topP', isNumberIn(0, 1)],
  ['maxTokens', (value) => Number.isSafeInteger(value) && (value as number) > 0],
  ['seed', (value) => Number.isSafeInteger(value)],
  ['user', (value) => typeof value === 'string'],
]);

/**
 * Whether `request` holds only the fields above, with text messages of the system, developer,
 * user or assistant roles (and an optional `name`), each as the request schema accepts it.
 */
export function isPlainRequest(request: ChatRequest): boolean {
  const fields = request as unknown as Record<string, unknown>;
  for (const key in fields) {
    const check = PLAIN_FIELDS.get(key);
    if (check === undefined || !Object.hasOwn(fields, key) || !check(fields[key])) return false;
  }
  return typeof fields['model'] === 'string' && Array.isArray(fields['messages']);
}

function isPlainMessage(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const fields = message as Record<string, unknown>;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) return false;
    const value = fields[key];
    if (key === 'role') {
      if (typeof value !== 'string' || !ROLES.has(value)) return false;
    } else if ((key !== 'content' && key !== 'name') || typeof value !== 'string') return false;
  }
  return typeof fields['role'] === 'string' && typeof fields['content'] === 'string';
}
