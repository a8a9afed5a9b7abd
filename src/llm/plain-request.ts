import type { ChatRequest } from './types.js';

/*
 * Most requests are plain: a model, a few text messages, perhaps a temperature or an output
 * maximum. For those, a handful of `typeof` checks decide what the request schema would, at a
 * fraction of its cost on a served call. Whatever this check does not recognise, valid or not,
 * goes to the schema, which alone words the errors. The server's check of OpenAI's wire body
 * takes messages by the same rule ({@link arePlainMessages}), so the two cannot drift apart.
 * A served request's messages are walked by both: marking the server's as checked (a WeakSet,
 * and freezing them so that they stay as checked) cost 0.3–0.8 µs a request, more than the
 * second walk it saved (tens of ns a message).
 */

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

type FieldCheck = (value: unknown) => boolean;

const isNumberIn =
  (low: number, high: number): FieldCheck =>
  (value) =>
    typeof value === 'number' && value >= low && value <= high;

const PLAIN_FIELDS: ReadonlyMap<string, FieldCheck> = new Map<string, FieldCheck>([
  ['model', (value) => typeof value === 'string' && value.length > 0],
  ['messages', (value) => arePlainMessages(value, false)],
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

/**
 * Whether `messages` is a non-empty list of plain text messages: plain objects holding a `role`
 * (system, developer, user or assistant), a string `content` and perhaps a string `name` (or
 * `null`, which OpenAI's wire format allows, when `nullName`), and nothing else.
 */
export function arePlainMessages(messages: unknown, nullName: boolean): boolean {
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const message of messages) if (!isPlainMessage(message, nullName)) return false;
  return true;
}

function isPlainMessage(message: unknown, nullName: boolean): boolean {
  if (typeof message !== 'object' || message === null || Object.getPrototypeOf(message) !== Object.prototype) return false;
  const fields = message as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (key === 'role') {
      if (typeof value !== 'string' || !ROLES.has(value)) return false;
    } else if (key === 'content') {
      if (typeof value !== 'string') return false;
    } else if (key === 'name') {
      if (typeof value !== 'string' && !(nullName && value === null)) return false;
    } else return false;
  }
  return typeof fields['role'] === 'string' && typeof fields['content'] === 'string';
}
