import type { ChatCompletionFunctionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { FunctionTool, ToolChoice } from '../../types.js';

/** Groundwork's tools as OpenAI's function tools, `strict` included when set. */
export function toOpenAiTools(tools: readonly FunctionTool[]): ChatCompletionFunctionTool[] {
  return tools.map((tool) => {
    const definition: ChatCompletionFunctionTool['function'] = { name: tool.name };
    if (tool.description !== undefined) definition.description = tool.description;
    if (tool.parameters !== undefined) definition.parameters = tool.parameters;
    if (tool.strict !== undefined) definition.strict = tool.strict;
    return { type: 'function', function: definition };
  });
}

/** Groundwork's tool choice as OpenAI's `tool_choice`. */
export function toOpenAiToolChoice(choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}
