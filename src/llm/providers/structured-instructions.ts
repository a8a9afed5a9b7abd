import { messageText } from '../model/message-text.js';
import type { ChatMessage, ResponseFormat } from '../types.js';

/**
 * For providers without native structured output: adds an instruction to answer with JSON only
 * (and, for a schema, the schema itself) to the first system or developer message, keeping its role.
 */
export function withJsonInstructions(messages: readonly ChatMessage[], format: ResponseFormat | undefined): ChatMessage[] {
  if (format === undefined || format.type === 'text') return [...messages];
  const instruction =
    format.type === 'json_schema'
      ? `Answer with a single JSON value that matches this JSON Schema, and nothing else:\n${JSON.stringify(format.schema)}`
      : 'Answer with a single JSON object and nothing else.';
  const system = messages.find((message) => message.role === 'system' || message.role === 'developer');
  if (system === undefined) return [{ role: 'system', content: instruction }, ...messages];
  return messages.map((message) =>
    message === system ? { role: system.role, content: `${messageText(message)}\n\n${instruction}` } : message,
  );
}
