import type { ResponsesBody } from './responses-types.js';

/**
 * Groundwork's own fields of a `function_call` item: a translated answer gives them (Gemini's
 * thought signature, Anthropic's and Bedrock's signed reasoning), and a client sends them back with
 * its next turn. OpenAI's Responses API refuses fields it does not know.
 */
const EXTENSIONS: readonly string[] = ['signature', 'reasoning_blocks'];

/**
 * The body as an OpenAI-family upstream takes it: `input`'s `function_call` items without
 * Groundwork's extensions, for a conversation begun on a translated model and carried on with a
 * forwarded one. The body itself when no item has them (no copy).
 */
export function withoutExtensions(body: ResponsesBody): ResponsesBody {
  const input = body['input'];
  if (!Array.isArray(input)) return body;
  let items: unknown[] | undefined;
  for (let at = 0; at < input.length; at++) {
    const item: unknown = input[at];
    if (typeof item !== 'object' || item === null || (item as { type?: unknown }).type !== 'function_call') continue;
    if (!EXTENSIONS.some((field) => Object.hasOwn(item, field))) continue;
    const plain: Record<string, unknown> = { ...(item as Record<string, unknown>) };
    for (const field of EXTENSIONS) delete plain[field];
    items ??= [...input];
    items[at] = plain;
  }
  return items === undefined ? body : { ...body, input: items };
}
