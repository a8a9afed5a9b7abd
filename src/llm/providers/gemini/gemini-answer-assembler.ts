import { randomUUID } from 'node:crypto';
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata } from '@google/genai';
import type { CompletionBase } from '../../model/completion-of.js';
import type { AnswerMessage, ChatChoice, ChatStreamEvent, ReasoningBlock, ToolCall } from '../../types.js';
import { answerIndex } from '../answer-index.js';
import { providerError } from '../provider-error-factory.js';
import { mapGeminiUsage } from './gemini-usage.js';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.js';

/** What one candidate has said so far. */
interface CandidateState {
  text: string;
  thoughts: string;
  toolCalls: ToolCall[];
  /** The images it made, in OpenAI-compatible servers' shape (see {@link imageOutput}). */
  images: ImageOutput[];
  /** The `thoughtSignature` of its text, from the first text part that carried one. */
  textSignature: string | undefined;
  finishReason: string | undefined;
}

/**
 * An image the model made, as OpenAI-compatible servers that pass image models on (OpenRouter,
 * LiteLLM) put it in a chat answer's `message.images`: a `data:` URL of its bytes, with
 * Groundwork's `signature` extension when Gemini signed the part (as on a tool call).
 */
interface ImageOutput {
  type: 'image_url';
  image_url: { url: string };
  /** The part's `thoughtSignature`, which Gemini 3's image models need back on the same part. */
  signature?: string;
}

/**
 * An `inlineData` part's image as an {@link ImageOutput}, with the part's `signature` when it has
 * one; undefined for other media (no other is asked for).
 */
function imageOutput(inline: { mimeType?: string; data?: string }, signature: string | undefined): ImageOutput | undefined {
  if (typeof inline.mimeType !== 'string' || !inline.mimeType.startsWith('image/') || typeof inline.data !== 'string') return undefined;
  const image: ImageOutput = { type: 'image_url', image_url: { url: `data:${inline.mimeType};base64,${inline.data}` } };
  if (typeof signature === 'string' && signature !== '') image.signature = signature;
  return image;
}

/**
 * A text part's signature as the reasoning block that carries it back: Gemini signs reasoning it
 * does not show, so the block's text is empty (a thought summary, when asked for, is in
 * `passthrough.reasoning_content`); `toGeminiContents` puts the signature back on the text.
 */
function textSignatureBlock(signature: string): ReasoningBlock {
  return { type: 'thinking', provider: 'gemini', text: '', signature };
}

/**
 * Assembles Gemini answers: a whole `generateContent` answer is one chunk, a stream many. Each
 * chunk's text parts are text deltas (thoughts stay out of the text: they are reasoning deltas, kept
 * whole as `passthrough.reasoning_content`), each `functionCall` part a whole tool call (Gemini does not
 * split arguments), given an id when Gemini gave none, with the part's `thoughtSignature` as the
 * call's `signature`. Each `inlineData` image (Gemini's image models make them) is kept, whole, in
 * the message's `passthrough.images` as a `data:` URL, the shape OpenAI-compatible servers answer
 * images in, with the part's `thoughtSignature` as the image's `signature`. The signature of the
 * answer's text (Gemini 3 signs its first part after its thoughts) is kept as a Gemini reasoning
 * block (`reasoning`, see {@link textSignatureBlock}); inline data of any other media fails the answer by name rather than vanish. A blocked prompt (no candidates, a
 * `promptFeedback.blockReason`) fails with a `ContentFilterError`: there is no answer to return.
 * A candidate stopped by a safety filter is an answer, with `finishReason: 'content_filter'`.
 */
export class GeminiAnswerAssembler {
  readonly #candidates = new Map<number, CandidateState>();
  readonly #callPrefix = `call_${randomUUID().slice(0, 8)}_`;
  #model: string;
  /** The model the chunks named (`modelVersion`), if any did. */
  #reportedModel: string | undefined;
  #id: string | undefined;
  #usage: GenerateContentResponseUsageMetadata | undefined;

  constructor(model: string) {
    this.#model = model;
  }

  /** The answer's id, from the first chunk that carries one. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The model the chunks say is answering (`modelVersion`), once one has named it. */
  get reportedModel(): string | undefined {
    return this.#reportedModel;
  }

  /** Whether every candidate seen said why it stopped (a stream without it was cut short, for one candidate or all). */
  get finished(): boolean {
    if (this.#candidates.size === 0) return false;
    for (const candidate of this.#candidates.values()) if (candidate.finishReason === undefined) return false;
    return true;
  }

  /** The events one chunk yields. */
  accept(chunk: GenerateContentResponse): ChatStreamEvent[] {
    if (typeof chunk !== 'object' || chunk === null) {
      throw providerError('malformed_response', 'an answer chunk is not an object', { provider: 'gemini', model: this.#model });
    }
    if (typeof chunk.responseId === 'string' && chunk.responseId !== '') this.#id ??= chunk.responseId;
    if (typeof chunk.modelVersion === 'string' && chunk.modelVersion !== '') this.#model = this.#reportedModel = chunk.modelVersion;
    if (chunk.usageMetadata !== undefined) this.#usage = chunk.usageMetadata;
    const blocked = chunk.promptFeedback?.blockReason;
    if (blocked !== undefined && (chunk.candidates ?? []).length === 0) {
      const why = chunk.promptFeedback?.blockReasonMessage;
      throw providerError('content_filter', `Gemini blocked the prompt (${blocked}${why === undefined ? '' : `: ${why}`})`, {
        provider: 'gemini',
        model: this.#model,
      });
    }
    const events: ChatStreamEvent[] = [];
    for (const [position, candidate] of (chunk.candidates ?? []).entries()) {
      const index = answerIndex(candidate.index, position, 'candidate index', 'gemini', this.#model);
      const state = this.#state(index);
      for (const part of candidate.content?.parts ?? []) {
        if (typeof part.text === 'string' && part.thought === true) {
          state.thoughts += part.text;
          if (part.text !== '') events.push({ type: 'reasoning-delta', text: part.text, choice: index });
        } else if (typeof part.text === 'string') {
          // Gemini 3 signs the first part after its thoughts; streaming, the signature may come on a last, empty, text part.
          if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') state.textSignature ??= part.thoughtSignature;
          if (part.text !== '') {
            state.text += part.text;
            events.push({ type: 'delta', text: part.text, choice: index });
          }
        } else if (part.functionCall !== undefined) {
          const call: ToolCall = {
            id: part.functionCall.id ?? `${this.#callPrefix}${index}_${state.toolCalls.length}`,
            type: 'function',
            name: part.functionCall.name ?? '',
            arguments: JSON.stringify(part.functionCall.args ?? {}),
          };
          if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') call.signature = part.thoughtSignature;
          events.push({
            type: 'tool-call-delta',
            choice: index,
            index: state.toolCalls.length,
            id: call.id,
            name: call.name,
            arguments: call.arguments,
          });
          state.toolCalls.push(call);
        } else if (part.inlineData !== undefined) {
          const image = imageOutput(part.inlineData, part.thoughtSignature);
          if (image === undefined) {
            const what = part.inlineData.mimeType ?? 'data of no media type';
            throw providerError('unprocessable', `Gemini answered with inline ${what}, which Groundwork cannot carry (only images)`, {
              provider: 'gemini',
              model: this.#model,
              advice: 'ask for text or images only',
            });
          }
          state.images.push(image);
        }
      }
      if (candidate.finishReason !== undefined) state.finishReason = candidate.finishReason;
    }
    return events;
  }

  /** The whole answer. */
  completion(): Omit<CompletionBase, 'provider'> {
    const indexes = [...this.#candidates.keys()].sort((a, b) => a - b);
    if (indexes.length === 0) indexes.push(0);
    const choices: ChatChoice[] = indexes.map((index) => {
      const state = this.#state(index);
      const message: AnswerMessage = { content: state.text === '' && state.toolCalls.length > 0 ? null : state.text };
      if (state.toolCalls.length > 0) message.toolCalls = state.toolCalls;
      if (state.thoughts !== '') message.passthrough = { reasoning_content: state.thoughts };
      if (state.images.length > 0) message.passthrough = { ...message.passthrough, images: state.images };
      if (state.textSignature !== undefined) message.reasoning = [textSignatureBlock(state.textSignature)];
      return { index, message, finishReason: mapGeminiFinishReason(state.finishReason, state.toolCalls.length > 0) };
    });
    const base: Omit<CompletionBase, 'provider'> = { model: this.#model, choices, usage: mapGeminiUsage(this.#usage) };
    if (this.#id !== undefined) base.id = this.#id;
    return base;
  }

  #state(index: number): CandidateState {
    let state = this.#candidates.get(index);
    if (state === undefined) {
      state = { text: '', thoughts: '', toolCalls: [], images: [], textSignature: undefined, finishReason: undefined };
      this.#candidates.set(index, state);
    }
    return state;
  }
}
