import { arePlainMessages } from '../llm/plain-request.js';
import { type ChatCompletionBody, MODEL_NAME_MAX_LENGTH } from './chat-request-schema.js';

/*
 * Most chat requests are the plain kind: a model, a few messages of text, and perhaps `stream`,
 * a temperature or an output maximum. For those, a handful of `typeof` checks decide what the
 * full schema would, at a fraction of its cost (the schema was 3% of a served call's CPU). Any
 * body this check does not recognise, valid or not, goes to the schema, which alone writes the
 * error messages: a refusal reads the same whichever path saw the request first.
 */

type FieldCheck = (value: unknown) => boolean;

const isNumberIn =
  (low: number, high: number): FieldCheck =>
  (value) =>
    value === null || (typeof value === 'number' && value >= low && value <= high);
const isPositiveInteger: FieldCheck = (value) => value === null || (Number.isSafeInteger(value) && (value as number) > 0);

/** The top-level fields a plain body may hold, each with what the schema accepts for it. */
const PLAIN_FIELDS: ReadonlyMap<string, FieldCheck> = new Map<string, FieldCheck>([
  ['model', (value) => typeof value === 'string' && value.length > 0 && value.length <= MODEL_NAME_MAX_LENGTH],
  // The LLM client's own request check takes messages by the same rule.
  ['messages', (value) => arePlainMessages(value, true)],
  ['stream', (value) => value === null || typeof value === 'boolean'],
  ['stream_options', isPlainStreamOptions],
  ['temperature', isNumberIn(0, 2)],
  ['top_p', isNumberIn(0, 1)],
  ['max_tokens', isPositiveInteger],
  ['max_completion_tokens', isPositiveInteger],
  ['seed', (value) => value === null || Number.isSafeInteger(value)],
  ['user', (value) => value === null || typeof value === 'string'],
]);

/**
 * Whether `body` is a plain chat request that the body schema accepts as it is: only the fields
 * above, with messages of the system, developer, user or assistant roles holding text as a string
 * (and an optional `name`). False sends the body to the schema, never to a refusal.
 */
export function isPlainChatBody(body: unknown): body is ChatCompletionBody {
  if (!isPlainObject(body)) return false;
  let hasModel = false;
  let hasMessages = false;
  for (const key in body) {
    const check = PLAIN_FIELDS.get(key);
    const value = body[key];
    if (check === undefined || value === undefined || !check(value)) return false;
    if (key === 'model') hasModel = true;
    else if (key === 'messages') hasMessages = true;
  }
  return hasModel && hasMessages;
}

function isPlainStreamOptions(value: unknown): boolean {
  if (value === null) return true;
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    const option = value[key];
    if (key !== 'include_usage' || (option !== null && typeof option !== 'boolean')) return false;
  }
  return true;
}

/** An object as `JSON.parse` makes it: not an array, no prototype but Object's. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
