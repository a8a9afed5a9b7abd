import { FinishReason } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.js';

describe('mapGeminiFinishReason', () => {
  it.each([
    [FinishReason.SAFETY],
    [FinishReason.RECITATION],
    [FinishReason.BLOCKLIST],
    [FinishReason.PROHIBITED_CONTENT],
    [FinishReason.SPII],
    [FinishReason.IMAGE_SAFETY],
    [FinishReason.IMAGE_PROHIBITED_CONTENT],
    [FinishReason.IMAGE_RECITATION],
  ])('%s, a stop by a safety, recitation or policy filter, is content_filter', (reason) => {
    expect(mapGeminiFinishReason(reason, false)).toBe('content_filter');
  });

  it.each([
    [FinishReason.STOP, false, 'stop'],
    [FinishReason.STOP, true, 'tool_calls'],
    [FinishReason.MAX_TOKENS, false, 'length'],
    [FinishReason.MALFORMED_FUNCTION_CALL, false, 'unknown'],
    [FinishReason.OTHER, false, 'unknown'],
  ] as const)('%s (tools called: %s) is %s', (reason, calledTools, mapped) => {
    expect(mapGeminiFinishReason(reason, calledTools)).toBe(mapped);
  });
});
