import type { ConverseResponse, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { completionOf } from '../../model/completion-of.js';
import type { AssistantMessage, ChatCompletion } from '../../types.js';
import { BedrockAnswerAssembler } from './bedrock-answer-assembler.js';
import { toBedrockMessages } from './convert-to-bedrock-messages.js';

const REDACTED = new Uint8Array([1, 2, 3]);

/** The assistant turn a tool loop appends after `completion`. */
function turnOf(completion: ChatCompletion): AssistantMessage {
  const message: AssistantMessage = { role: 'assistant', content: null };
  if (completion.toolCalls !== undefined) message.toolCalls = completion.toolCalls;
  if (completion.reasoning !== undefined) message.reasoning = completion.reasoning;
  return message;
}

/** The assistant turn Converse gets back after the tool's result. */
function repeated(completion: ChatCompletion): unknown {
  return toBedrockMessages([
    { role: 'user', content: 'How warm is it in Oslo?' },
    turnOf(completion),
    { role: 'tool', toolCallId: 't1', content: '3' },
  ]).messages[1];
}

const expected = {
  role: 'assistant',
  content: [
    { reasoningContent: { reasoningText: { text: 'Ask the tool.', signature: 'sig-1' } } },
    { reasoningContent: { redactedContent: Buffer.from(REDACTED) } },
    { toolUse: { toolUseId: 't1', name: 'weather', input: { city: 'Oslo' } } },
  ],
};

describe('Bedrock reasoning across a tool call', () => {
  it('keeps streamed reasoning with its signature, and redacted reasoning, and sends them back first', () => {
    const assembler = new BedrockAnswerAssembler('anthropic.claude-sonnet-4', undefined);
    const events: ConverseStreamOutput[] = [
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Ask the ' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'tool.' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig-1' } } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: REDACTED } } } },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: 't1', name: 'weather' } } } },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"city":"Oslo"}' } } } },
      { contentBlockStop: { contentBlockIndex: 2 } },
      { messageStop: { stopReason: 'tool_use' } },
    ] as ConverseStreamOutput[];
    for (const event of events) assembler.accept(event);
    const completion = completionOf({ provider: 'bedrock', ...assembler.completion() });
    expect(completion.reasoning).toEqual([
      { type: 'thinking', provider: 'bedrock', text: 'Ask the tool.', signature: 'sig-1' },
      { type: 'redacted', provider: 'bedrock', data: 'AQID' },
    ]);
    expect(repeated(completion)).toEqual(expected);
  });

  it('does the same for a whole answer', () => {
    const assembler = new BedrockAnswerAssembler('anthropic.claude-sonnet-4', undefined);
    assembler.acceptResponse({
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'Ask the tool.', signature: 'sig-1' } } },
            { reasoningContent: { redactedContent: REDACTED } },
            { toolUse: { toolUseId: 't1', name: 'weather', input: { city: 'Oslo' } } },
          ],
        },
      },
      stopReason: 'tool_use',
    } as ConverseResponse);
    expect(repeated(completionOf({ provider: 'bedrock', ...assembler.completion() }))).toEqual(expected);
  });
});
