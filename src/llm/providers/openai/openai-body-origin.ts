import type { ChatRequest } from '../../types.js';
import type { OpenAiDialect } from './openai-dialect.js';

/*
 * The pass-through codec. `groundwork serve` reads OpenAI chat-completions bodies; for the plain
 * kind (text messages and a few sampling fields, no nulls) the body an OpenAI-family upstream
 * needs is the caller's own, with only the model, the output maximum and the stream flags set.
 * The server remembers the body beside the request it read from it; the provider sends that body
 * when the request it is asked to send still says what was read (the engine hands requests on by
 * copy, so a stage that changed a field or the messages made them differ), and translates the
 * request as usual otherwise. The request itself is untouched: the cache key, the ledger, limits
 * and field policy see the same neutral request on either path.
 */

/** A caller's body, and the request read from it. */
interface Origin {
  readonly body: Readonly<Record<string, unknown>>;
  readonly read: ChatRequest;
  /** Fields of `read` compared, besides the model and the output maximum. */
  readonly fields: number;
}

/** By the request's messages array, which every copy of the request shares until a stage replaces it. */
const origins = new WeakMap<object, Origin>();

/** Fields the codec sets itself; every other field of the caller's body is sent as it came. */
const SET_BY_CODEC = new Set(['model', 'max_tokens', 'max_completion_tokens', 'stream', 'stream_options']);

/**
 * Remembers that `request` was read from `body`, a plain OpenAI chat-completions body (see
 * `isPlainChatBody`) holding no null: each of its fields then has the wire form the translator
 * would give it, so an OpenAI-family provider may send `body` itself.
 */
export function rememberOpenAiBody(request: ChatRequest, body: Readonly<Record<string, unknown>>): void {
  origins.set(request.messages, { body, read: request, fields: comparedFields(request) });
}

/**
 * The wire body for `request` from the caller's own body, or undefined when the request must be
 * translated: it was not read from a body, a stage changed a field other than the model or the
 * output maximum, or the dialect needs a message rewritten (`developer` as `system`).
 */
export function openAiBodyOf(request: ChatRequest, model: string, dialect: OpenAiDialect): Record<string, unknown> | undefined {
  const origin = origins.get(request.messages);
  if (origin === undefined || !sameFields(request, origin)) return undefined;
  if (!dialect.developerRole && request.messages.some((message) => message.role === 'developer')) return undefined;
  const wire: Record<string, unknown> = { model };
  for (const key in origin.body) if (!SET_BY_CODEC.has(key)) wire[key] = origin.body[key];
  if (request.maxTokens !== undefined) wire[dialect.tokenField] = request.maxTokens;
  return wire;
}

function comparedFields(request: ChatRequest): number {
  let count = 0;
  for (const key in request) if (isCompared(request, key)) count++;
  return count;
}

function isCompared(request: ChatRequest, key: string): boolean {
  return key !== 'model' && key !== 'maxTokens' && request[key as keyof ChatRequest] !== undefined;
}

/** Whether `request` holds exactly the fields read from the body, by identity (the model and output maximum aside). */
function sameFields(request: ChatRequest, origin: Origin): boolean {
  let count = 0;
  for (const key in request) {
    if (!isCompared(request, key)) continue;
    if (request[key as keyof ChatRequest] !== origin.read[key as keyof ChatRequest]) return false;
    count++;
  }
  return count === origin.fields;
}
