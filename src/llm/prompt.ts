import type { z } from 'zod';
import { PromptVariableError } from './llm-errors.js';
import { defaultPromptRegistry, type PromptRegistry } from './prompt-registry.js';
import { fillTemplate, type PromptValue, type TemplateVariables, templateVariables } from './prompt-template.js';
import { schemaResponseFormat } from './schema-format.js';
import type { ToolSet } from './tools/tool.js';
import type { ChatMessage, ResponseFormat, ToolChoice } from './types.js';

/** The values a prompt is rendered with: every variable without a default is required. */
export type PromptContext<Vars extends string = string, Optional extends string = never> = {
  [K in Exclude<Vars, Optional>]: PromptValue;
} & { [K in Optional]?: PromptValue };

/** What an application writes to define a prompt. Prompts are the application's data: Groundwork holds no business rules. */
export interface PromptDefinition<T extends string, S extends string, Schema extends z.ZodType | undefined, D> {
  /** A stable name, e.g. `translate-word`. */
  name: string;
  /** Change it whenever the text or schema changes: it is part of the cache key and the ledger row. */
  version: string | number;
  /** The system message; may use `{{variables}}` too. */
  system?: S;
  /** The user message, with `{{variables}}`. */
  template: T;
  /** When given, the answer is JSON validated against it and returned as `data`. */
  schema?: Schema;
  /** Values for variables the context may leave out. */
  defaults?: D;
  /** Sampling temperature for this prompt (0 makes answers cacheable by default). */
  temperature?: number;
  /** Most tokens in the answer. */
  maxTokens?: number;
  /**
   * Tools the model may call. Those with `execute` are run by the tool loop, and their results go
   * back to the model until it answers (up to `maxSteps` turns).
   */
  tools?: ToolSet;
  /** Whether and which tool the model must call. @default 'auto' */
  toolChoice?: ToolChoice;
  /** Most model turns the tool loop may take, the first included. @default 5 */
  maxSteps?: number;
}

/** A defined prompt: render it with a context, or run it with `executePrompt`. */
export interface Prompt<Vars extends string = string, Output = unknown, Optional extends string = never> {
  readonly name: string;
  readonly version: string;
  readonly system: string | undefined;
  readonly template: string;
  readonly variables: readonly string[];
  readonly defaults: Readonly<Record<string, PromptValue>>;
  readonly schema: z.ZodType<Output> | undefined;
  /** The `json_schema` response format derived from `schema`. */
  readonly responseFormat: ResponseFormat | undefined;
  readonly temperature: number | undefined;
  readonly maxTokens: number | undefined;
  readonly tools: ToolSet | undefined;
  readonly toolChoice: ToolChoice | undefined;
  readonly maxSteps: number | undefined;
  /** The messages for `context`; throws {@link PromptVariableError} naming every missing variable. */
  render(context: PromptContext<Vars, Optional>): ChatMessage[];
}

type OutputOf<Schema> = Schema extends z.ZodType ? z.output<Schema> : undefined;

/**
 * Defines a prompt with typed variables, inferred from the template:
 *
 * ```ts
 * const translate = definePrompt({
 *   name: 'translate-word',
 *   version: 1,
 *   system: 'You translate single words.',
 *   template: 'Translate "{{word}}" from {{source}} to {{target}}.',
 *   schema: z.object({ translations: z.array(z.string()) }),
 *   defaults: { source: 'English' },
 *   temperature: 0,
 * });
 * translate.render({ word: 'hello', target: 'German' });
 * ```
 */
export function definePrompt<
  const T extends string,
  const S extends string = '',
  Schema extends z.ZodType | undefined = undefined,
  const D extends Partial<Record<TemplateVariables<T> | TemplateVariables<S>, PromptValue>> = Record<never, PromptValue>,
>(
  definition: PromptDefinition<T, S, Schema, D>,
  options: { registry?: PromptRegistry } = {},
): Prompt<TemplateVariables<T> | TemplateVariables<S>, OutputOf<Schema>, keyof D & string> {
  const version = String(definition.version);
  const system = definition.system === undefined || definition.system === '' ? undefined : definition.system;
  const variables = [...new Set([...templateVariables(system ?? ''), ...templateVariables(definition.template)])];
  const defaults = Object.freeze({ ...(definition.defaults ?? {}) }) as Readonly<Record<string, PromptValue>>;
  const schema = definition.schema as z.ZodType<OutputOf<Schema>> | undefined;
  const prompt: Prompt<TemplateVariables<T> | TemplateVariables<S>, OutputOf<Schema>, keyof D & string> = Object.freeze({
    name: definition.name,
    version,
    system,
    template: definition.template,
    variables,
    defaults,
    schema,
    responseFormat: schema === undefined ? undefined : schemaResponseFormat(definition.name, schema),
    temperature: definition.temperature,
    maxTokens: definition.maxTokens,
    tools: definition.tools,
    toolChoice: definition.toolChoice,
    maxSteps: definition.maxSteps,
    render(context: PromptContext<string, string>): ChatMessage[] {
      const values: Record<string, PromptValue> = { ...defaults };
      for (const [key, value] of Object.entries(context)) if (value !== undefined && value !== null) values[key] = value;
      const missing = variables.filter((name) => values[name] === undefined);
      if (missing.length > 0) throw new PromptVariableError(definition.name, missing);
      const messages: ChatMessage[] = [];
      if (system !== undefined) messages.push({ role: 'system', content: fillTemplate(system, values) });
      messages.push({ role: 'user', content: fillTemplate(definition.template, values) });
      return messages;
    },
  });
  (options.registry ?? defaultPromptRegistry).register({
    name: prompt.name,
    version,
    system,
    template: definition.template,
    variables,
    hasSchema: schema !== undefined,
  });
  return prompt;
}
