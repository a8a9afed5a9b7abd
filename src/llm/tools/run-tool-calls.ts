import type { ToolResultEvent } from '../llm-client-types.js';
import { parseStructured } from '../structured-output.js';
import type { ToolCall, ToolMessage } from '../types.js';
import type { ToolSet } from './tool.js';

/** What running one turn's tool calls produced: messages for the model, events for a stream. */
export interface ToolTurn {
  messages: ToolMessage[];
  events: ToolResultEvent[];
}

/**
 * Runs a turn's tool calls in parallel. Arguments are validated against each tool's schema; an
 * unknown tool, invalid arguments or a tool that throws goes back to the model as an error result
 * (so it can correct itself), never as a failure of the call. Results keep the calls' order.
 */
export async function runToolCalls(calls: readonly ToolCall[], tools: ToolSet, signal: AbortSignal): Promise<ToolTurn> {
  const outcomes = await Promise.all(calls.map((call) => runOne(call, tools, signal)));
  return {
    messages: outcomes.map(({ message }) => message),
    events: outcomes.map(({ event }) => event),
  };
}

async function runOne(call: ToolCall, tools: ToolSet, signal: AbortSignal): Promise<{ message: ToolMessage; event: ToolResultEvent }> {
  const failed = (error: string) => ({
    message: { role: 'tool' as const, toolCallId: call.id, content: JSON.stringify({ error }), isError: true },
    event: { type: 'tool-result' as const, toolCallId: call.id, name: call.name, error },
  });
  const tool = Object.hasOwn(tools, call.name) ? tools[call.name] : undefined;
  if (tool === undefined) return failed(`There is no tool named "${call.name}". Available: ${Object.keys(tools).join(', ')}.`);
  if (tool.execute === undefined) return failed(`The tool "${call.name}" cannot be run here.`);
  const parsed = parseStructured(call.arguments === '' ? '{}' : call.arguments, tool.parameters);
  if (!parsed.ok) return failed(`The arguments ${parsed.problem}. Call the tool again with corrected arguments.`);
  signal.throwIfAborted();
  try {
    const result: unknown = await tool.execute(parsed.data, { toolCallId: call.id, signal });
    signal.throwIfAborted();
    return {
      message: { role: 'tool', toolCallId: call.id, content: result === undefined ? 'null' : JSON.stringify(result) },
      event: { type: 'tool-result', toolCallId: call.id, name: call.name, result },
    };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return failed(`The tool failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
