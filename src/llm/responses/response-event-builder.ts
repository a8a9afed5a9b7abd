import type { ChatCompletion, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta } from '../types.js';
import { type AnswerExtras, answerExtras } from './answer-extras.js';
import {
  finalStatus,
  functionCallItem,
  imageItem,
  messageItem,
  newItemId,
  type ResponseEnvelope,
  reasoningItem,
  reasoningPart,
  refusalPart,
  textPart,
  withReasoning,
} from './response-object.js';
import type { ResponseStreamEvent } from './responses-types.js';

/** One output item being streamed. */
type OpenItem =
  | { kind: 'message'; id: string; index: number; part: 'text' | 'refusal'; text: string }
  | { kind: 'reasoning'; id: string; index: number; text: string }
  | { kind: 'call'; id: string; index: number; callId: string; name: string; arguments: string; position: number };

/**
 * Turns a chat stream (reasoning, text, refusal and tool-call deltas, then the whole answer) into the
 * Responses API's events, in OpenAI's order and shapes: `response.created`, `response.in_progress`;
 * per item `response.output_item.added`, for a reasoning item (the model's thinking, streamed as it
 * thinks, before its answer) `response.content_part.added`, `response.reasoning_text.delta`s and
 * `…done`, `response.content_part.done`, for a message `response.content_part.added`, text
 * (`response.output_text.delta`) or refusal deltas and their `…done`, `response.content_part.done`,
 * for a function call `response.function_call_arguments.delta`/`.done`; `response.output_item.done`;
 * then `response.completed` (or `response.incomplete`) with the whole response. Whatever the deltas
 * did not stream (a cached or shared answer replays only its text) is streamed from the whole answer
 * before it ends, each as one delta, so the events always add up to the response. What the chat
 * stream gives only with the whole answer (see {@link answerExtras}) is streamed once it is known:
 * the text's URL citations as `response.output_text.annotation.added` (before the text's `…done`
 * when the text is still open), the reasoning, when no delta streamed it, as a whole `reasoning`
 * item ahead of the items not streamed yet, the images as `image_generation_call` items
 * (`response.image_generation_call.completed`) last. Every event has its `sequence_number`, from 0.
 */
export class ResponseEventBuilder {
  readonly #envelope: ResponseEnvelope;
  readonly #model: string;
  readonly #done: Record<string, unknown>[] = [];
  #open: OpenItem | undefined;
  #sequence = 0;
  #outputs = 0;
  /** What the deltas streamed: text, refusal, and the positions of tool calls begun. */
  #streamedText = false;
  #streamedRefusal = false;
  /** The reasoning the deltas streamed, all items together. */
  #streamedReasoning = '';
  readonly #streamedCalls = new Set<number>();
  /** Where in `#done` each streamed call's item is, by the call's position in the answer. */
  readonly #doneCalls = new Map<number, number>();
  /** The answer's URL citations, known once it ends, for its text part. */
  #annotations: Record<string, unknown>[] = [];
  #annotated = false;
  /** The last text message item closed, and where in `#done` it is. */
  #lastText: { id: string; index: number; at: number } | undefined;

  constructor(envelope: ResponseEnvelope, model: string) {
    this.#envelope = envelope;
    this.#model = model;
  }

  /** The opening events. */
  start(): ResponseStreamEvent[] {
    const response = this.#envelope.build({ status: 'in_progress', model: this.#model, output: [] });
    return [this.#event('response.created', { response }), this.#event('response.in_progress', { response })];
  }

  /** The events for one chat delta (a second choice's deltas have no place in a response and are not sent). */
  push(delta: TextDelta | RefusalDelta | ReasoningDelta | ToolCallDelta): ResponseStreamEvent[] {
    if ((delta.choice ?? 0) !== 0) return [];
    if (delta.type === 'tool-call-delta') return this.#toolCall(delta);
    if (delta.type === 'reasoning-delta') return this.#reasoningDelta(delta.text);
    const part = delta.type === 'delta' ? 'text' : 'refusal';
    if (delta.text === '') return [];
    if (part === 'text') this.#streamedText = true;
    else this.#streamedRefusal = true;
    const events: ResponseStreamEvent[] = [];
    const open = this.#open;
    if (open === undefined || open.kind !== 'message' || open.part !== part) {
      events.push(...this.#close());
      const item: OpenItem = { kind: 'message', id: newItemId('msg'), index: this.#outputs++, part, text: '' };
      this.#open = item;
      events.push(
        this.#event('response.output_item.added', { output_index: item.index, item: messageItem(item.id, 'in_progress', undefined) }),
      );
      events.push(
        this.#event('response.content_part.added', {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          part: part === 'text' ? textPart('') : refusalPart(''),
        }),
      );
    }
    const item = this.#open as Extract<OpenItem, { kind: 'message' }>;
    item.text += delta.text;
    const where = { item_id: item.id, output_index: item.index, content_index: 0 };
    events.push(
      part === 'text'
        ? this.#event('response.output_text.delta', { ...where, delta: delta.text, logprobs: [] })
        : this.#event('response.refusal.delta', { ...where, delta: delta.text }),
    );
    return events;
  }

  /** The closing events, once the whole answer is known: first what of it was not streamed. */
  finish(completion: ChatCompletion, extras: AnswerExtras = answerExtras(completion)): ResponseStreamEvent[] {
    this.#annotations = extras.annotations;
    const events = [...this.#close(), ...this.#annotateClosedText()];
    const reasoning = this.#unstreamedReasoning(extras.reasoning);
    if (reasoning !== undefined) events.push(...this.#reasoningDelta(reasoning), ...this.#close());
    events.push(...this.#remainder(completion));
    for (const image of extras.images) events.push(...this.#image(image));
    this.#sign(completion);
    const { status, incomplete } = finalStatus(completion);
    const response = this.#envelope.build({
      status,
      model: completion.model,
      output: this.#done,
      usage: completion.usage,
      incomplete,
      serviceTier: completion.serviceTier,
    });
    events.push(this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
    return events;
  }

  /** The `error` event that ends a stream which failed after it began. */
  error(code: string | null, message: string, param: string | null = null): ResponseStreamEvent {
    return this.#event('error', { code, message, param });
  }

  /**
   * The items of `completion` the deltas did not stream, whole, in the order and choice of
   * `responseFromCompletion`: the refusal (else the text), then each tool call not begun.
   */
  #remainder(completion: ChatCompletion): ResponseStreamEvent[] {
    const events: ResponseStreamEvent[] = [];
    const { refusal, content } = completion;
    if (refusal !== undefined) {
      if (!this.#streamedRefusal) events.push(...this.push({ type: 'refusal-delta', text: refusal }), ...this.#close());
    } else if (!this.#streamedText) events.push(...this.push({ type: 'delta', text: content }), ...this.#close());
    for (const [index, call] of (completion.toolCalls ?? []).entries()) {
      if (this.#streamedCalls.has(index)) continue;
      events.push(
        ...this.#toolCall({ type: 'tool-call-delta', index, id: call.id, name: call.name, arguments: call.arguments }),
        ...this.#close(),
      );
    }
    return events;
  }

  /**
   * The final response's `function_call` items with each call's `signature` and the answer's
   * `reasoning_blocks` (known only from the whole answer), so that a client which appends the
   * response's output sends them back.
   */
  #sign(completion: ChatCompletion): void {
    for (const [position, at] of this.#doneCalls) {
      const signature = completion.toolCalls?.[position]?.signature;
      const item = signature === undefined ? this.#done[at] : { ...this.#done[at], signature };
      if (item !== undefined) this.#done[at] = withReasoning(item, completion, position);
    }
  }

  /** The URL citations of a text that was closed before the answer ended (tool calls followed it), added to its item. */
  #annotateClosedText(): ResponseStreamEvent[] {
    const text = this.#lastText;
    if (this.#annotated || this.#annotations.length === 0 || text === undefined) return [];
    const item = this.#done[text.at] as { content: Record<string, unknown>[] };
    this.#done[text.at] = { ...item, content: [{ ...item.content[0], annotations: [...this.#annotations] }] };
    return this.#annotationEvents(text.id, text.index);
  }

  /** One `response.output_text.annotation.added` per citation, once. */
  #annotationEvents(id: string, index: number): ResponseStreamEvent[] {
    this.#annotated = true;
    return this.#annotations.map((annotation, position) =>
      this.#event('response.output_text.annotation.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        annotation_index: position,
        annotation,
      }),
    );
  }

  /**
   * What of the answer's reasoning the deltas did not stream: all of it when they streamed none, the
   * rest when they streamed its beginning, else nothing.
   */
  #unstreamedReasoning(reasoning: string | undefined): string | undefined {
    if (reasoning === undefined || reasoning === '') return undefined;
    const streamed = this.#streamedReasoning;
    if (streamed === '') return reasoning;
    return reasoning.startsWith(streamed) && reasoning.length > streamed.length ? reasoning.slice(streamed.length) : undefined;
  }

  /** A piece of reasoning: into the open `reasoning` item, or a new one (with its one `reasoning_text` part) when none is open. */
  #reasoningDelta(text: string): ResponseStreamEvent[] {
    if (text === '') return [];
    this.#streamedReasoning += text;
    const events: ResponseStreamEvent[] = [];
    if (this.#open?.kind !== 'reasoning') {
      events.push(...this.#close());
      const item: OpenItem = { kind: 'reasoning', id: newItemId('rs'), index: this.#outputs++, text: '' };
      this.#open = item;
      events.push(
        this.#event('response.output_item.added', { output_index: item.index, item: reasoningItem(item.id, undefined) }),
        this.#event('response.content_part.added', {
          item_id: item.id,
          output_index: item.index,
          content_index: 0,
          part: reasoningPart(''),
        }),
      );
    }
    const item = this.#open as Extract<OpenItem, { kind: 'reasoning' }>;
    item.text += text;
    events.push(
      this.#event('response.reasoning_text.delta', { item_id: item.id, output_index: item.index, content_index: 0, delta: text }),
    );
    return events;
  }

  /** A whole `image_generation_call` item. */
  #image(result: string): ResponseStreamEvent[] {
    const id = newItemId('ig');
    const index = this.#outputs++;
    const done = imageItem(id, 'completed', result);
    this.#done.push(done);
    return [
      this.#event('response.output_item.added', { output_index: index, item: imageItem(id, 'in_progress', null) }),
      this.#event('response.image_generation_call.completed', { item_id: id, output_index: index }),
      this.#event('response.output_item.done', { output_index: index, item: done }),
    ];
  }

  #toolCall(delta: ToolCallDelta): ResponseStreamEvent[] {
    this.#streamedCalls.add(delta.index);
    const events: ResponseStreamEvent[] = [];
    const open = this.#open;
    if (open === undefined || open.kind !== 'call' || open.position !== delta.index) {
      events.push(...this.#close());
      const item: OpenItem = {
        kind: 'call',
        id: newItemId('fc'),
        index: this.#outputs++,
        callId: delta.id ?? '',
        name: delta.name ?? '',
        arguments: '',
        position: delta.index,
      };
      this.#open = item;
      const call = { id: item.callId, type: 'function' as const, name: item.name, arguments: '' };
      events.push(
        this.#event('response.output_item.added', { output_index: item.index, item: functionCallItem(item.id, call, 'in_progress') }),
      );
    }
    const item = this.#open as Extract<OpenItem, { kind: 'call' }>;
    // A compatible server may send the call's id or name only after its first chunk.
    if (item.callId === '' && delta.id !== undefined) item.callId = delta.id;
    if (item.name === '' && delta.name !== undefined) item.name = delta.name;
    if (delta.arguments !== '') {
      item.arguments += delta.arguments;
      events.push(
        this.#event('response.function_call_arguments.delta', { item_id: item.id, output_index: item.index, delta: delta.arguments }),
      );
    }
    return events;
  }

  #close(): ResponseStreamEvent[] {
    const item = this.#open;
    if (item === undefined) return [];
    this.#open = undefined;
    if (item.kind === 'reasoning') {
      const where = { item_id: item.id, output_index: item.index, content_index: 0 };
      const done = reasoningItem(item.id, item.text);
      this.#done.push(done);
      return [
        this.#event('response.reasoning_text.done', { ...where, text: item.text }),
        this.#event('response.content_part.done', { ...where, part: reasoningPart(item.text) }),
        this.#event('response.output_item.done', { output_index: item.index, item: done }),
      ];
    }
    if (item.kind === 'call') {
      const done = functionCallItem(
        item.id,
        { id: item.callId, type: 'function', name: item.name, arguments: item.arguments },
        'completed',
      );
      this.#doneCalls.set(item.position, this.#done.length);
      this.#done.push(done);
      return [
        this.#event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: item.index,
          name: item.name,
          arguments: item.arguments,
        }),
        this.#event('response.output_item.done', { output_index: item.index, item: done }),
      ];
    }
    const where = { item_id: item.id, output_index: item.index, content_index: 0 };
    const annotate = item.part === 'text' && !this.#annotated && this.#annotations.length > 0;
    const part = item.part === 'text' ? textPart(item.text, annotate ? this.#annotations : []) : refusalPart(item.text);
    const done = messageItem(item.id, 'completed', part);
    if (item.part === 'text') this.#lastText = { id: item.id, index: item.index, at: this.#done.length };
    this.#done.push(done);
    return [
      ...(annotate ? this.#annotationEvents(item.id, item.index) : []),
      item.part === 'text'
        ? this.#event('response.output_text.done', { ...where, text: item.text, logprobs: [] })
        : this.#event('response.refusal.done', { ...where, refusal: item.text }),
      this.#event('response.content_part.done', { ...where, part }),
      this.#event('response.output_item.done', { output_index: item.index, item: done }),
    ];
  }

  #event(type: string, fields: Record<string, unknown>): ResponseStreamEvent {
    return { type, ...fields, sequence_number: this.#sequence++ };
  }
}
