import type { ToolConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { ChatRequest } from '../../types.js';

/** The tool configuration of a Converse request, and the name of the structured-output tool when there is one. */
export interface BedrockTools {
  toolConfig?: ToolConfiguration;
  /** The tool whose input is the structured answer (not reported as a tool call). */
  answerTool?: string;
}

/** Whether the request's structured output goes through a forced tool: a `json_schema` format with an object schema, and tools allowed. */
export function usesAnswerTool(request: ChatRequest): boolean {
  const format = request.responseFormat;
  return format?.type === 'json_schema' && format.schema['type'] === 'object' && request.toolChoice !== 'none';
}

/**
 * Tools and `tool_choice` in Converse's terms (`auto` → `auto`, `required` → `any`, a named
 * function → `tool`). A `json_schema` response format becomes one more tool, the answer tool,
 * whose input is the answer: forced when the caller has no tools and no choice, else some tool
 * must be called (`any`) unless the caller chose. Converse has no `none`: with that choice no tool
 * is offered at all (no `toolConfig`); a history with tool calls, for which Converse requires
 * `toolConfig`, makes `none` a field Converse cannot honour (`bedrock-unsupported.ts`).
 */
export function toBedrockTools(request: ChatRequest): BedrockTools {
  if (request.toolChoice === 'none') return {};
  const tools: NonNullable<ToolConfiguration['tools']> = (request.tools ?? []).map((tool) => ({
    toolSpec: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      inputSchema: { json: (tool.parameters ?? { type: 'object', properties: {} }) as never },
    },
  }));
  const result: BedrockTools = {};
  const format = request.responseFormat;
  if (usesAnswerTool(request) && format?.type === 'json_schema') {
    tools.push({
      toolSpec: {
        name: format.name,
        description: format.description ?? 'Give the answer by calling this tool with arguments that match its schema.',
        inputSchema: { json: format.schema as never },
      },
    });
    result.answerTool = format.name;
  }
  if (tools.length === 0) return result;
  const config: ToolConfiguration = { tools };
  const choice = request.toolChoice;
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (typeof choice === 'object') config.toolChoice = { tool: { name: choice.name } };
  else if (choice === undefined && result.answerTool !== undefined) {
    config.toolChoice = tools.length === 1 ? { tool: { name: result.answerTool } } : { any: {} };
  }
  result.toolConfig = config;
  return result;
}
