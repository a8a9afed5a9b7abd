import type { Tool, ToolChoice } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest, FunctionTool } from '../../types.js';
import { thinks } from './anthropic-thinking.js';

/** The tools part of an Anthropic body, and the name of the structured-output tool when there is one. */
export interface AnthropicTools {
  tools?: Tool[];
  tool_choice?: ToolChoice;
  /** The tool whose input is the structured answer (not reported as a tool call). */
  answerTool?: string;
}

const NO_PARAMETERS = { type: 'object', properties: {} } as const;

function toAnthropicTool(tool: FunctionTool): Tool {
  const definition: Tool = { name: tool.name, input_schema: (tool.parameters ?? NO_PARAMETERS) as Tool['input_schema'] };
  if (tool.description !== undefined) definition.description = tool.description;
  if (tool.strict !== undefined) definition.strict = tool.strict;
  return definition;
}

/** Whether the request's structured output goes through a tool: an object schema, no `tool_choice: none`, no extended thinking. */
export function usesAnswerTool(request: ChatRequest): boolean {
  const format = request.responseFormat;
  return (
    format?.type === 'json_schema' &&
    format.schema['type'] === 'object' &&
    request.toolChoice !== 'none' &&
    !thinks(request.reasoningEffort)
  );
}

/**
 * Tools, `tool_choice` and `parallel_tool_calls` in Anthropic's terms: `auto` → `auto`, `none` →
 * `none`, `required` → `any`, a named function → `tool`; `parallelToolCalls: false` →
 * `disable_parallel_tool_use`.
 *
 * A `json_schema` response format becomes one more tool, the answer tool, whose input is the answer:
 * - with no tools of the caller's and no `tool_choice`, the answer tool is forced (`tool`);
 * - with the caller's tools and no `tool_choice`, some tool must be called (`any`): one of the
 *   caller's, or the answer tool to answer;
 * - with a `tool_choice`, the caller's choice stands and the answer tool is one more the model may use.
 * With `tool_choice: none` or extended thinking (which forbids forced tools) the schema goes into the
 * system prompt instead, and the answer is validated all the same.
 */
export function toAnthropicTools(request: ChatRequest): AnthropicTools {
  const tools = (request.tools ?? []).map(toAnthropicTool);
  const format = request.responseFormat;
  const result: AnthropicTools = {};
  if (usesAnswerTool(request) && format?.type === 'json_schema') {
    tools.push({
      name: format.name,
      description: format.description ?? 'Give the answer by calling this tool with arguments that match its schema.',
      input_schema: format.schema as Tool['input_schema'],
    });
    result.answerTool = format.name;
  }
  if (tools.length > 0) result.tools = tools;
  const disable = request.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  const choice = request.toolChoice;
  if (choice === 'none') result.tool_choice = { type: 'none' };
  else if (choice === 'auto') result.tool_choice = { type: 'auto', ...disable };
  else if (choice === 'required') result.tool_choice = { type: 'any', ...disable };
  else if (choice !== undefined) result.tool_choice = { type: 'tool', name: choice.name, ...disable };
  else if (result.answerTool !== undefined && tools.length === 1)
    result.tool_choice = { type: 'tool', name: result.answerTool, ...disable };
  else if (result.answerTool !== undefined) result.tool_choice = { type: 'any', ...disable };
  else if (tools.length > 0 && request.parallelToolCalls === false) result.tool_choice = { type: 'auto', ...disable };
  return result;
}
