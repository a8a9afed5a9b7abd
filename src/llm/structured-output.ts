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
    return { ok: false, problem: `not valid JSON (${(error as Error).message})` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, data: result.data };
  const issues = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem: `does not match the schema (${issues})` };
}

/** The follow-up message that asks the model to correct its answer. */
export function repairInstruction(problem: string): string {
  return `Your previous answer ${problem}. Answer again with only the corrected JSON, matching the schema exactly, and nothing else.`;
}
