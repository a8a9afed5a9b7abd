import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';

/**
 * The Messages API body Groundwork sends. The installed SDK's types lack the sampling fields the
 * API still takes (`temperature`, `top_p`), so they are added here; the SDK sends the body as it is.
 */
export type AnthropicParams = MessageCreateParamsBase & {
  temperature?: number;
  top_p?: number;
};
