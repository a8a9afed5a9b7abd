import { z } from 'zod';
import { isStrictCompatible } from '../schema-format.js';
import type { FunctionTool } from '../types.js';
import type { ToolSet } from './tool.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The provider-neutral definitions of `tools`: each schema as JSON Schema. Throws on a name providers refuse. */
export function toFunctionTools(tools: ToolSet): FunctionTool[] {
  return Object.entries(tools).map(([name, tool]) => {
    if (!TOOL_NAME.test(name)) throw new TypeError(`Tool name "${name}" must be 1–64 characters of a-z, A-Z, 0-9, _ and -`);
    const { $schema: _dialect, ...parameters } = z.toJSONSchema(tool.parameters, { unrepresentable: 'any' }) as Record<string, unknown>;
    const definition: FunctionTool = { type: 'function', name, parameters };
    if (tool.description !== undefined) definition.description = tool.description;
    if (tool.strict === true && isStrictCompatible(parameters)) definition.strict = true;
    return definition;
  });
}

/** Whether any tool of the set can be run by the tool loop. */
export function hasExecutableTools(tools: ToolSet | undefined): boolean {
  return tools !== undefined && Object.values(tools).some((tool) => tool.execute !== undefined);
}
