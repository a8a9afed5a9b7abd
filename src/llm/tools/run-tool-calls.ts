import { untilAborted } from '../../internal/abort.js';
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
 * (so it can correct itself), never as a failure of the call. A result JSON cannot hold fails the
 * call with a `TypeError` naming the tool. Results keep the calls' order.
 *
 * When `signal` aborts, the turn fails at once with its reason: each tool is given the signal, but
 * one that ignores it is not waited for (it runs on to its end, and what it returns or throws is dropped).
 */
export async function runToolCalls(calls: readonly ToolCall[], tools: ToolSet, signal: AbortSignal): Promise<ToolTurn> {
  // `untilAborted` handles the runs' outcome whichever settles first, so a tool that fails after the abort is no unhandled rejection.
  const outcomes = await untilAborted(Promise.all(calls.map((call) => runOne(call, tools, signal))), signal);
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
  let result: unknown;
  try {
    result = await tool.execute(parsed.data, { toolCallId: call.id, signal });
    signal.throwIfAborted();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return failed(`The tool failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    message: { role: 'tool', toolCallId: call.id, content: resultJson(call.name, result) },
    event: { type: 'tool-result', toolCallId: call.id, name: call.name, result },
  };
}

/**
 * A tool's result as the JSON the model reads. A result JSON cannot hold (a BigInt, a cycle, a
 * function) is the application's mistake, not the tool's failure: the tool has run, and telling the
 * model it failed would have it call the tool again. The call fails instead, naming the tool.
 */
function resultJson(name: string, result: unknown): string {
  if (result === undefined) return 'null';
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new TypeError(
      `The tool "${name}" ran, but returned a value JSON cannot hold (${error instanceof Error ? error.message : String(error)}): return plain JSON values.`,
    );
  }
  if (json === undefined) throw new TypeError(`The tool "${name}" ran, but returned a ${typeof result}: return plain JSON values.`);
  return json;
}
