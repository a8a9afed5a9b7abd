import type { ConverseCommandInput, InferenceConfiguration } from '@aws-sdk/client-bedrock-runtime';
import type { ChatRequest } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';
import { toBedrockTools, usesAnswerTool } from './bedrock-tools.js';
import { toBedrockMessages } from './convert-to-bedrock-messages.js';

/**
 * The Converse input for `request`: messages and system blocks, `inferenceConfig` (`maxTokens`,
 * `temperature`, `topP`, `stopSequences`), tools, `metadata` as `requestMetadata`, and structured
 * output through a forced tool (a `json_object` format, or a schema that is not an object, goes to
 * the system prompt as an instruction instead). Fields Converse lacks are refused before this runs
 * ({@link bedrockUnsupportedFields}).
 */
export function toBedrockInput(request: ChatRequest, model: string): ConverseCommandInput {
  const messages = usesAnswerTool(request) ? request.messages : withJsonInstructions(request.messages, request.responseFormat);
  const { system, messages: conversation } = toBedrockMessages(messages);
  const input: ConverseCommandInput = { modelId: model, messages: conversation };
  if (system !== undefined) input.system = system;
  const inference: InferenceConfiguration = {};
  if (request.maxTokens !== undefined) inference.maxTokens = request.maxTokens;
  if (request.temperature !== undefined) inference.temperature = request.temperature;
  if (request.topP !== undefined) inference.topP = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) inference.stopSequences = request.stop;
  if (Object.keys(inference).length > 0) input.inferenceConfig = inference;
  const { toolConfig } = toBedrockTools(request);
  if (toolConfig !== undefined) input.toolConfig = toolConfig;
  if (request.metadata !== undefined) input.requestMetadata = request.metadata;
  return input;
}
