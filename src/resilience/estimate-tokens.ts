import { createRequire } from 'node:module';
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import { messageText } from '../llm/model/message-text.js';
import type { ChatMessage } from '../llm/types.js';
import { approximateTokens } from './approximate-tokens.js';

export type Encoding = 'o200k_base' | 'cl100k_base';

const require = createRequire(import.meta.url);
const encoders = new Map<Encoding, Tiktoken>();

/** Tokens every chat message costs beyond its text (role and separators), and the answer's priming. */
const PER_MESSAGE = 4;
const PER_REPLY = 3;

/** The tokenizer of a known OpenAI model family, by name; undefined for other models. */
export function encodingFor(model: string): Encoding | undefined {
  const name = model.toLowerCase().replace(/^.*\//, '');
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o1|o3|o4|gpt-oss)/.test(name)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada)/.test(name)) return 'cl100k_base';
  return undefined;
}

/** The encoder for `encoding`, loaded on first use and kept (the rank tables are large). */
function encoder(encoding: Encoding): Tiktoken {
  let cached = encoders.get(encoding);
  if (cached === undefined) {
    // Loaded here rather than imported: only exact counts need the tokenizer, and importing
    // Groundwork should not pay for it.
    const { Tiktoken: Encoder } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    const ranks = require(`js-tiktoken/ranks/${encoding}`) as { default: TiktokenBPE } | TiktokenBPE;
    cached = new Encoder('default' in ranks ? ranks.default : ranks);
    encoders.set(encoding, cached);
  }
  return cached;
}

/** Tokens in `text` for `model`: its tokenizer when known, else about one token per four characters. */
export function countTokens(text: string, model: string): number {
  const encoding = encodingFor(model);
  if (encoding === undefined) return Math.ceil(text.length / 4);
  return encoder(encoding).encode(text, [], []).length;
}

/**
 * The tokens a call may use, to reserve against the tokens-per-minute limit: the prompt
 * (counted with the model's tokenizer where it has a known one, else characters ÷ 4) plus the
 * most the answer may take.
 */
export function estimateTokens(messages: readonly ChatMessage[], model: string, maxTokens: number): number {
  let prompt = PER_REPLY;
  for (const message of messages) prompt += PER_MESSAGE + countTokens(messageText(message), model);
  return prompt + maxTokens;
}

/**
 * The tokens to reserve for a call against the tokens-per-minute limit, without a tokenizer:
 * {@link approximateTokens} per message, the per-message overhead, and the most the answer may
 * take. It never blocks the event loop for long (no rank tables to load, one pass over the text);
 * the reservation is reconciled with the provider's reported usage after the call.
 */
export function reserveTokens(messages: readonly ChatMessage[], maxTokens: number): number {
  let prompt = PER_REPLY;
  for (const message of messages) prompt += PER_MESSAGE + approximateTokens(messageText(message));
  return prompt + maxTokens;
}
