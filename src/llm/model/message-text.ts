import type { ChatMessage } from './chat-message.js';

/**
 * A message's text: a string as it is, text parts joined by newlines, other parts left out. For
 * what needs words only (token estimates, logs, the JSON-instruction fallback); translators keep parts.
 */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) {
    if (part.type !== 'text') continue;
    text = text === '' ? part.text : `${text}\n${part.text}`;
  }
  return text;
}
