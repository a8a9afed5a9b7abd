import type { z } from 'zod';

/** What a tool's `execute` is told besides its arguments. */
export interface ToolContext {
  /** The model's id for this call. */
  toolCallId: string;
  /** Aborts when the call is cancelled or its deadline passes; pass it on to what the tool awaits. */
  signal: AbortSignal;
}

/**
 * A function the model may call: a description, a zod schema of its arguments, and (for the tool
 * loop to run it) `execute`. Without `execute` the model's calls come back in `response.toolCalls`.
 */
export interface Tool<Args = unknown, Result = unknown> {
  description?: string;
  parameters: z.ZodType<Args>;
  /** Runs the call with arguments already validated against `parameters`. What it returns goes back to the model as JSON. */
  execute?: (args: Args, context: ToolContext) => Result | Promise<Result>;
  /** Ask the provider to hold the arguments to the schema exactly, where it can (OpenAI's strict mode). */
  strict?: boolean;
}

/** Tools by the name the model calls them by (`a-z`, `A-Z`, `0-9`, `_`, `-`; at most 64 characters). */
// biome-ignore lint/suspicious/noExplicitAny: a set holds tools of different argument types.
export type ToolSet = Record<string, Tool<any, any>>;

/**
 * Defines a tool whose `execute` receives its schema's type:
 *
 * ```ts
 * const lookUp = defineTool({
 *   description: 'Looks a word up in the dictionary.',
 *   parameters: z.object({ word: z.string() }),
 *   execute: async ({ word }) => dictionary.get(word) ?? null,
 * });
 * ```
 */
export function defineTool<Schema extends z.ZodType, Result>(tool: {
  description?: string;
  parameters: Schema;
  execute?: (args: z.output<Schema>, context: ToolContext) => Result | Promise<Result>;
  strict?: boolean;
}): Tool<z.output<Schema>, Result> {
  return tool as Tool<z.output<Schema>, Result>;
}
