import type { z } from 'zod';

/** The outcome of reading a structured answer. */
export type StructuredResult<T> = { ok: true; data: T } | { ok: false; problem: string };

const FENCE = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i;

/** Parses `content` as JSON (tolerating a Markdown code fence) and validates it against `schema`. */
export function parseStructured<T>(content: string, schema: z.ZodType<T>): StructuredResult<T> {
  const text = FENCE.exec(content)?.[1] ?? content;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not valid JSON (${jsonProblem(error)})` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, data: result.data };
  const issues = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem: `does not match the schema (${issues})` };
}

/**
 * What `JSON.parse` found wrong, without the text it quotes: V8 names an unexpected token with up to
 * ten characters of the input (`Unexpected token 'S', "Sure! Here"... is not valid JSON`), and the
 * problem goes into `StructuredOutputError`'s message, which must not carry the answer's words.
 */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith('Unexpected token') ? 'Unexpected token' : message;
}

/** The follow-up message that asks the model to correct its answer. */
export function repairInstruction(problem: string): string {
  return `Your previous answer ${problem}. Answer again with only the corrected JSON, matching the schema exactly, and nothing else.`;
}
