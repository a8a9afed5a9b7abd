import { messageText } from './model/message-text.js';
import type { ChatRequest } from './types.js';

/**
 * A cheap estimate of the tokens a request may use, to reserve against a tokens-per-minute
 * limit: four characters a token for the prompt, plus the most the answer may take.
 */
export function estimateRequestTokens(request: ChatRequest, defaultMaxTokens: number): number {
  const characters = request.messages.reduce((sum, message) => sum + messageText(message).length + 4, 0);
  return Math.ceil(characters / 4) + (request.maxTokens ?? defaultMaxTokens);
}
