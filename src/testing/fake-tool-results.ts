import type { RecordedRequest } from './fake-behaviour.js';

/** A tool result a request sends back to the model. */
export interface FakeToolResult {
  toolCallId: string;
  /** The result's text (text parts joined; a JSON result, as Gemini and Bedrock may send one, serialised). */
  content: string;
  /**
   * Whether the result says the tool failed (Anthropic's `is_error`, Gemini's `response.error`,
   * Bedrock's `status: error`; always false on OpenAI's wire and the Responses API's).
   */
  isError: boolean;
}

/** The `function_call_output` items at the end of a Responses API request's input. */
function responsesToolResults(input: unknown[]): FakeToolResult[] {
  const results: FakeToolResult[] = [];
  for (let index = input.length - 1; index >= 0; index--) {
    const item = input[index] as { type?: string; call_id?: string; output?: unknown };
    if (item.type !== 'function_call_output') break;
    const output = typeof item.output === 'string' ? item.output : textOf(item.output);
    results.unshift({ toolCallId: item.call_id ?? '', content: output, isError: false });
  }
  return results;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      ['text', 'input_text'].includes(String((part as { type?: string }).type)) ? String((part as { text?: unknown }).text ?? '') : '',
    )
    .join('');
}

/**
 * The tool results at the end of a recorded chat request, on every wire (OpenAI's and Azure's
 * `tool` messages after the last assistant turn, the Responses API's trailing
 * `function_call_output` items, Anthropic's `tool_result` blocks, Gemini's `functionResponse` parts
 * and Bedrock's `toolResult` blocks in the last user turn); empty when the request does not answer
 * tool calls. For a handler that answers a tool-result turn
 * differently from the first one:
 *
 * @example
 * ```ts
 * fake.setHandler((request) =>
 *   toolResultsOf(request).length > 0
 *     ? { type: 'answer', content: 'It is 21 °C in Paris.' }
 *     : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] },
 * );
 * ```
 */
export function toolResultsOf(request: RecordedRequest): FakeToolResult[] {
  if (request.wire === 'gemini') return geminiToolResults(request);
  if (request.wire === 'bedrock') return bedrockToolResults(request);
  const input = (request.body as { input?: unknown } | undefined)?.input;
  if (Array.isArray(input)) return responsesToolResults(input);
  const messages = (request.body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return [];
  if (request.wire === 'anthropic') {
    const last = messages.at(-1) as { role?: string; content?: unknown } | undefined;
    if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
    return last.content
      .filter((block) => (block as { type?: string }).type === 'tool_result')
      .map((block) => {
        const result = block as { tool_use_id?: string; content?: unknown; is_error?: boolean };
        return { toolCallId: result.tool_use_id ?? '', content: textOf(result.content), isError: result.is_error === true };
      });
  }
  const results: FakeToolResult[] = [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as { role?: string; tool_call_id?: string; content?: unknown };
    if (message.role !== 'tool') break;
    results.unshift({ toolCallId: message.tool_call_id ?? '', content: textOf(message.content), isError: false });
  }
  return results;
}

/** Gemini: the `functionResponse` parts of the last user turn (`response.output`, or `response.error` for a failed tool). */
function geminiToolResults(request: RecordedRequest): FakeToolResult[] {
  const contents = (request.body as { contents?: unknown } | undefined)?.contents;
  if (!Array.isArray(contents)) return [];
  const last = contents.at(-1) as { role?: string; parts?: unknown } | undefined;
  if (last?.role !== 'user' || !Array.isArray(last.parts)) return [];
  return last.parts.flatMap((part) => {
    const result = (part as { functionResponse?: { id?: string; name?: string; response?: { output?: unknown; error?: unknown } } })
      .functionResponse;
    if (result === undefined) return [];
    const failed = result.response?.error !== undefined;
    const value = failed ? result.response?.error : result.response?.output;
    return [
      {
        toolCallId: result.id ?? result.name ?? '',
        content: typeof value === 'string' ? value : JSON.stringify(value ?? null),
        isError: failed,
      },
    ];
  });
}

/** Bedrock: the `toolResult` blocks of the last user message (`text` items, and `json` ones serialised). */
function bedrockToolResults(request: RecordedRequest): FakeToolResult[] {
  const messages = (request.body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return [];
  const last = messages.at(-1) as { role?: string; content?: unknown } | undefined;
  if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
  return last.content.flatMap((block) => {
    const result = (block as { toolResult?: { toolUseId?: string; content?: Array<{ text?: string; json?: unknown }>; status?: string } })
      .toolResult;
    if (result === undefined) return [];
    const text = (result.content ?? []).map((item) => item.text ?? (item.json === undefined ? '' : JSON.stringify(item.json))).join('');
    return [{ toolCallId: result.toolUseId ?? '', content: text, isError: result.status === 'error' }];
  });
}
