import { describe, expect, it } from 'vitest';
import { responsesInputTokenBound } from './tenant-responses.js';

describe('responsesInputTokenBound', () => {
  it('counts the answer format (its JSON schema) and the tool choice, which the provider bills as prompt', () => {
    const body = { model: 'gpt-4o-mini', input: 'hi' };
    const properties = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}`, { type: 'string' }]));
    const text = { format: { type: 'json_schema', name: 'big', schema: { type: 'object', properties } } };
    const plain = responsesInputTokenBound(body);
    // Each field's JSON takes the place of a `null` in the bound's text.
    expect(responsesInputTokenBound({ ...body, text })).toBe(plain - 4 + Buffer.byteLength(JSON.stringify(text)));
    const toolChoice = { type: 'function', name: 'lookup' };
    expect(responsesInputTokenBound({ ...body, tool_choice: toolChoice })).toBe(plain - 4 + Buffer.byteLength(JSON.stringify(toolChoice)));
  });
});
