import type { ChatRequest } from '../../types.js';
import type { OpenAiDialect } from './openai-dialect.js';

/**
 * The fields of `request` the dialect's wire cannot carry, by their OpenAI wire names: only the
 * images an earlier answer made (`messages[i].images`, an image model's), which OpenAI's and
 * Azure's assistant messages have no place for; compatible servers take them back as they answered
 * them ({@link OpenAiDialect.compatibleAnswerFields}). Every other field has an OpenAI wire form (unmodelled
 * ones travel in `passthrough`); the upstream itself answers 400 to what it lacks.
 */
export function openAiUnsupportedFields(request: ChatRequest, dialect: OpenAiDialect): string[] {
  if (dialect.compatibleAnswerFields) return [];
  const fields: string[] = [];
  request.messages.forEach((message, i) => {
    if (message.role === 'assistant' && message.images !== undefined && message.images.length > 0) fields.push(`messages[${i}].images`);
  });
  return fields;
}
