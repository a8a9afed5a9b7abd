import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import type { RecordedRequest } from '../../testing/fake-behaviour.js';

/**
 * What is wrong, against the OpenAI spec's `CreateChatCompletionRequest`, with each chat body an
 * OpenAI-family upstream received (Anthropic's and model-list requests are skipped); empty when
 * every body is valid.
 */
export function openAiSpecProblems(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap((request, index) =>
    request.wire === 'openai' || request.wire === 'azure'
      ? validateOpenAiSchema('CreateChatCompletionRequest', request.body).map((problem) => `request ${index}: ${problem}`)
      : [],
  );
}

/**
 * Compiles the spec's request schema now. Compiling takes seconds and blocks the event loop; done
 * between two requests, it outlasts the fake server's keep-alive timeout and the next request
 * meets a closing socket. Call it in `beforeAll`, before the server starts.
 */
export function compileOpenAiSpec(): void {
  validateOpenAiSchema('CreateChatCompletionRequest', {});
}
