/** A function the model may call. */
export interface FunctionTool {
  type: 'function';
  /** `a-z`, `A-Z`, `0-9`, `_` and `-`, at most 64 characters. */
  name: string;
  description?: string;
  /** The arguments' JSON Schema (an object schema). @default an object with no properties */
  parameters?: Record<string, unknown>;
  /** Ask the provider to hold the arguments to the schema exactly (OpenAI's structured outputs). */
  strict?: boolean;
}

/** Whether and which tool the model must call. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };
