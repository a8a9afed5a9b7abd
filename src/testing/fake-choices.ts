import type { FakeAnswer, FakeChoice, FakeFinishReason, FakeImage } from './fake-behaviour.js';

/** A scripted tool call with its id and arguments text settled. */
export interface ResolvedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A scripted choice with every default applied. */
export interface ResolvedChoice {
  index: number;
  /** The text; null when the choice only calls tools or refuses. */
  content: string | null;
  /** The original `json`, for a forced tool's input on Anthropic's wire. */
  json: unknown;
  toolCalls: ResolvedToolCall[];
  refusal: string | undefined;
  /** The model's thinking, when scripted. */
  reasoning: string | undefined;
  /** The images the choice makes, after its text. */
  images: readonly FakeImage[];
  /** Further message fields, when scripted. */
  messageFields: Readonly<Record<string, unknown>>;
  /** The text part's signature (Gemini's wire), when scripted. */
  textSignature: string | undefined;
  finishReason: FakeFinishReason;
}

function contentOf(choice: FakeChoice): string | null {
  if (choice.content !== undefined) return choice.content;
  if (choice.json !== undefined) return JSON.stringify(choice.json);
  if ((choice.toolCalls?.length ?? 0) > 0 || choice.refusal !== undefined) return null;
  return 'ok';
}

function resolveChoice(choice: FakeChoice, index: number, idPrefix: string): ResolvedChoice {
  const toolCalls = (choice.toolCalls ?? []).map((call, position) => ({
    id: call.id ?? `${idPrefix}${index}_${position}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  return {
    index,
    content: contentOf(choice),
    json: choice.json,
    toolCalls,
    refusal: choice.refusal,
    reasoning: choice.reasoning,
    images: choice.images ?? [],
    messageFields: choice.messageFields ?? {},
    textSignature: choice.textSignature,
    finishReason: choice.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
  };
}

/**
 * The choices an answer gives: its `choices`, else its own fields as one choice, repeated as many
 * times as the request's `n` asks. Tool-call ids not given are `idPrefix` + choice + position.
 */
export function resolveChoices(answer: FakeAnswer, body: Record<string, unknown>, idPrefix: string): ResolvedChoice[] {
  if (answer.choices !== undefined && answer.choices.length > 0)
    return answer.choices.map((choice, index) => resolveChoice(choice, index, idPrefix));
  const n = typeof body['n'] === 'number' && body['n'] > 1 ? Math.floor(body['n']) : 1;
  return Array.from({ length: n }, (_, index) => resolveChoice(answer, index, idPrefix));
}

/** All the text a choice writes (content, refusal, tool arguments), for usage estimates. */
export function writtenText(choices: readonly ResolvedChoice[]): string {
  return choices
    .map((choice) => (choice.content ?? '') + (choice.refusal ?? '') + choice.toolCalls.map((call) => call.name + call.arguments).join(''))
    .join('');
}
