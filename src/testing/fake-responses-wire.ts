import type { FakeAnswer } from './fake-behaviour.js';
import { type ResolvedChoice, resolveChoices, writtenText } from './fake-choices.js';
import { openaiWire } from './fake-openai-wire.js';
import { type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

/** Token counts of a Responses answer: the scripted ones, else four characters a token of the input and the output. */
function usageOf(context: WireContext, answer: FakeAnswer, output: string): Record<string, unknown> {
  const promptChars = JSON.stringify(context.body['input'] ?? '').length + JSON.stringify(context.body['instructions'] ?? '').length;
  const input = answer.usage?.promptTokens ?? Math.max(1, Math.ceil(promptChars / 4));
  const generated = answer.usage?.completionTokens ?? Math.max(1, Math.ceil(output.length / 4));
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: answer.usage?.cachedPromptTokens ?? 0,
      cache_write_tokens: answer.usage?.cacheWritePromptTokens ?? 0,
    },
    output_tokens: generated,
    output_tokens_details: { reasoning_tokens: answer.usage?.reasoningTokens ?? 0 },
    total_tokens: input + generated,
  };
}

/** The output items of the answer's first choice: a message (text or refusal), then one `function_call` per tool call. */
function outputOf(context: WireContext, choice: ResolvedChoice): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  const part =
    choice.refusal !== undefined
      ? { type: 'refusal', refusal: choice.refusal }
      : choice.content !== null
        ? { type: 'output_text', text: choice.content, annotations: [], logprobs: [] }
        : undefined;
  if (part !== undefined) items.push({ id: `msg_${context.id}`, type: 'message', status: 'completed', role: 'assistant', content: [part] });
  choice.toolCalls.forEach((call, index) => {
    items.push({
      id: `fc_${context.id}_${index}`,
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    });
  });
  return items;
}

function responseOf(context: WireContext, answer: FakeAnswer, status: string, output: unknown[], usage: unknown): Record<string, unknown> {
  const body = context.body;
  const pick = (key: string, fallback: unknown) => (body[key] === undefined ? fallback : body[key]);
  const response: Record<string, unknown> = {
    id: context.id,
    object: 'response',
    created_at: context.created,
    status,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: pick('instructions', null),
    max_output_tokens: pick('max_output_tokens', null),
    model: context.model,
    output,
    parallel_tool_calls: pick('parallel_tool_calls', true),
    previous_response_id: pick('previous_response_id', null),
    reasoning: { effort: null, summary: null },
    store: pick('store', true),
    temperature: pick('temperature', 1),
    text: pick('text', { format: { type: 'text' } }),
    tool_choice: pick('tool_choice', 'auto'),
    tools: pick('tools', []),
    top_p: pick('top_p', 1),
    truncation: pick('truncation', 'disabled'),
    usage,
    metadata: pick('metadata', {}),
  };
  if (usage === null) delete response['usage'];
  if (typeof body['user'] === 'string') response['user'] = body['user'];
  if (answer.serviceTier !== undefined) response['service_tier'] = answer.serviceTier;
  return response;
}

function statusOf(choice: ResolvedChoice): string {
  return choice.finishReason === 'length' ? 'incomplete' : 'completed';
}

/**
 * OpenAI's Responses API (`POST /v1/responses`, Azure's `/openai/v1/responses`): a `Response`
 * object whose output is the scripted answer's first choice (a message with its text or refusal,
 * a `function_call` item per tool call), and streams in OpenAI's event order — `response.created`,
 * `response.in_progress`, per item `output_item.added`, `content_part.added`, text, refusal or
 * argument deltas, their `…done` events, `output_item.done` — then `response.completed` with the
 * whole response. Ids derive from the request's (`resp_fake_N`), so a stream and the stored
 * response agree. Errors are OpenAI's error JSON.
 */
export const responsesWire: WireFormat = {
  requestIdHeader: 'x-request-id',

  answerBody(context, answer) {
    const choice = resolveChoices(answer, {}, 'call_fake_')[0]!;
    return responseOf(context, answer, statusOf(choice), outputOf(context, choice), usageOf(context, answer, writtenText([choice])));
  },

  streamFrames(context, answer): StreamFrames {
    const choice = resolveChoices(answer, {}, 'call_fake_')[0]!;
    let sequence = 0;
    const frame = (type: string, fields: Record<string, unknown>) => sseFrame({ type, ...fields, sequence_number: sequence++ }, type);
    const head = [
      frame('response.created', { response: responseOf(context, answer, 'in_progress', [], null) }),
      frame('response.in_progress', { response: responseOf(context, answer, 'in_progress', [], null) }),
    ];
    const deltas: string[] = [];
    const tail: string[] = [];
    const output = outputOf(context, choice);
    const count = answer.chunks ?? 3;
    output.forEach((item, outputIndex) => {
      const opening =
        item['type'] === 'message' ? { ...item, status: 'in_progress', content: [] } : { ...item, status: 'in_progress', arguments: '' };
      deltas.push(frame('response.output_item.added', { output_index: outputIndex, item: opening }));
      if (item['type'] === 'message') {
        const part = (item['content'] as Array<Record<string, unknown>>)[0]!;
        const where = { item_id: item['id'], output_index: outputIndex, content_index: 0 };
        const refusal = part['type'] === 'refusal';
        const text = String(refusal ? part['refusal'] : part['text']);
        deltas.push(
          frame('response.content_part.added', { ...where, part: refusal ? { type: 'refusal', refusal: '' } : { ...part, text: '' } }),
        );
        for (const piece of splitText(text, count)) {
          if (piece === '') continue;
          deltas.push(
            frame(refusal ? 'response.refusal.delta' : 'response.output_text.delta', {
              ...where,
              delta: piece,
              ...(refusal ? {} : { logprobs: [] }),
            }),
          );
        }
        deltas.push(
          frame(refusal ? 'response.refusal.done' : 'response.output_text.done', {
            ...where,
            ...(refusal ? { refusal: text } : { text, logprobs: [] }),
          }),
        );
        deltas.push(frame('response.content_part.done', { ...where, part }));
      } else {
        const where = { item_id: item['id'], output_index: outputIndex };
        for (const piece of splitText(String(item['arguments']), count)) {
          if (piece !== '') deltas.push(frame('response.function_call_arguments.delta', { ...where, delta: piece }));
        }
        deltas.push(frame('response.function_call_arguments.done', { ...where, name: item['name'], arguments: item['arguments'] }));
      }
      deltas.push(frame('response.output_item.done', { output_index: outputIndex, item }));
    });
    const status = statusOf(choice);
    const final = responseOf(context, answer, status, output, usageOf(context, answer, writtenText([choice])));
    tail.push(frame(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final }));
    return { head, deltas, tail };
  },

  errorBody: openaiWire.errorBody,

  malformedFrame() {
    return sseFrame('{"type": "response.output_text.delta", "delta": ', 'response.output_text.delta');
  },
};
