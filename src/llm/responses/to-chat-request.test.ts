import { describe, expect, it } from 'vitest';
import { ResponsesUnsupportedError } from './responses-unsupported-error.js';
import { toChatRequest } from './to-chat-request.js';

describe('toChatRequest', () => {
  it('maps instructions, text, image and file parts, history, function calls and their outputs', () => {
    const { request, stream } = toChatRequest(
      {
        model: 'gpt-4o-mini',
        instructions: 'Be brief.',
        stream: true,
        input: [
          { role: 'developer', content: 'Answer in German.' },
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is this?' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
              { type: 'input_file', file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' },
            ],
          },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me look.', annotations: [] }] },
          { type: 'function_call', call_id: 'call_1', name: 'look', arguments: '{"q":"x"}' },
          { type: 'function_call', call_id: 'call_2', name: 'look', arguments: '{"q":"y"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'one' },
          { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'two' }] },
        ],
        tools: [{ type: 'function', name: 'look', description: 'Looks', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'look' },
        parallel_tool_calls: false,
        text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 300,
        reasoning: { effort: 'low' },
        user: 'u-1',
        metadata: { team: 'a' },
        store: false,
        prompt_cache_key: 'k',
      },
      'anthropic',
    );
    expect(stream).toBe(true);
    expect(request).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Answer in German.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', url: 'data:image/png;base64,AAAA', detail: 'low' },
            { type: 'file', data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' },
          ],
        },
        {
          role: 'assistant',
          content: 'Let me look.',
          toolCalls: [
            { id: 'call_1', type: 'function', name: 'look', arguments: '{"q":"x"}' },
            { id: 'call_2', type: 'function', name: 'look', arguments: '{"q":"y"}' },
          ],
        },
        { role: 'tool', toolCallId: 'call_1', content: 'one' },
        { role: 'tool', toolCallId: 'call_2', content: [{ type: 'text', text: 'two' }] },
      ],
      tools: [{ type: 'function', name: 'look', description: 'Looks', parameters: { type: 'object' }, strict: true }],
      toolChoice: { type: 'function', name: 'look' },
      parallelToolCalls: false,
      responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
      verbosity: 'low',
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 300,
      reasoningEffort: 'low',
      user: 'u-1',
      metadata: { team: 'a' },
      passthrough: { prompt_cache_key: 'k' },
    });
  });

  it('refuses everything that does not map at once, naming each field and why', () => {
    let caught: unknown;
    try {
      toChatRequest(
        {
          model: 'm',
          input: [
            { type: 'item_reference', id: 'msg_1' },
            { role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] },
          ],
          tools: [
            { type: 'file_search', vector_store_ids: ['vs_1'] },
            { type: 'function', name: 'ok' },
          ],
          previous_response_id: 'resp_1',
          conversation: 'conv_1',
          background: true,
          include: ['reasoning.encrypted_content'],
          truncation: 'auto',
          reasoning: { effort: 'low', summary: 'auto' },
          brand_new_field: 1,
        },
        'openai-compatible',
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ResponsesUnsupportedError);
    const error = caught as ResponsesUnsupportedError;
    expect(error.code).toBe('llm_unsupported_params');
    expect([...error.fields].sort()).toEqual(
      [
        'previous_response_id',
        'conversation',
        'background',
        'include',
        'truncation',
        'reasoning.summary',
        'brand_new_field',
        'input[0].type',
        'input[1].content[0]',
        'tools[0]',
      ].sort(),
    );
    expect(error.message).toContain('openai-compatible');
    expect(error.message).toContain('file_search');
  });

  it('accepts the neutral values clients send by default', () => {
    const { request } = toChatRequest(
      {
        model: 'm',
        input: 'hi',
        store: false,
        background: false,
        truncation: 'disabled',
        include: [],
        previous_response_id: null,
        stream_options: { include_obfuscation: false },
      },
      'anthropic',
    );
    expect(request.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('gives a function call’s signature and reasoning_blocks back to its assistant turn, and names malformed blocks', () => {
    const thinking = { type: 'thinking', provider: 'anthropic', text: 'Ask.', signature: 'sig' } as const;
    const { request } = toChatRequest(
      {
        model: 'claude-sonnet-4',
        input: [
          { role: 'user', content: 'Weather?' },
          {
            type: 'function_call',
            call_id: 'toolu_1',
            name: 'weather',
            arguments: '{}',
            signature: 'thought',
            reasoning_blocks: [thinking],
          },
          { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' },
        ],
      },
      'anthropic',
    );
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      toolCalls: [{ id: 'toolu_1', type: 'function', name: 'weather', arguments: '{}', signature: 'thought' }],
      reasoning: [thinking],
    });
    const malformed = () =>
      toChatRequest(
        {
          model: 'claude-sonnet-4',
          input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', reasoning_blocks: [{ type: 'thinking', text: 1 }] }],
        },
        'anthropic',
      );
    expect(malformed).toThrow(ResponsesUnsupportedError);
    expect(() => malformed()).toThrow(expect.objectContaining({ fields: ['input[0].reasoning_blocks'] }));
  });

  it('refuses a user or service_tier that is not text, rather than sending the call without it', () => {
    const call = () => toChatRequest({ model: 'm', input: 'hi', user: 42, service_tier: { tier: 'flex' } }, 'anthropic');
    expect(call).toThrow(expect.objectContaining({ fields: ['user', 'service_tier'] }));
    expect(call).toThrow(/"user" \(must be a string\), "service_tier" \(must be a string\)/);
    const { request } = toChatRequest({ model: 'm', input: 'hi', user: null, service_tier: null }, 'anthropic');
    expect(request).not.toHaveProperty('user');
    expect(request).not.toHaveProperty('serviceTier');
  });

  it('names the values it takes for a reasoning effort or verbosity it does not know', () => {
    const call = () => toChatRequest({ model: 'm', input: 'hi', reasoning: { effort: 'ultra' }, text: { verbosity: 'loud' } }, 'anthropic');
    expect(call).toThrow(expect.objectContaining({ fields: ['reasoning.effort', 'text.verbosity'] }));
    expect(call).toThrow(/"text.verbosity" \(must be low, medium or high\)/);
    expect(call).toThrow(/"reasoning.effort" \(must be none, minimal, low, medium, high, xhigh or max\)/);
  });

  it('refuses history items that would reach the provider emptied: calls without an id, name or text arguments, messages without content', () => {
    const call = () =>
      toChatRequest(
        {
          model: 'm',
          input: [
            { role: 'user', content: 'Weather?' },
            { type: 'function_call', name: 'weather', arguments: { city: 'Paris' } },
            { type: 'function_call', call_id: 'call_2', arguments: '{}' },
            { type: 'function_call_output', output: 'sunny' },
            { role: 'assistant' },
          ],
        },
        'anthropic',
      );
    expect(call).toThrow(
      expect.objectContaining({
        fields: ['input[1].call_id', 'input[1].arguments', 'input[2].name', 'input[3].call_id', 'input[4].content'],
      }),
    );
    expect(call).toThrow(/"input\[1\].arguments" \(must be the arguments as JSON text\)/);
  });

  it('says what is wrong with a function tool, rather than calling it built-in or dropping its schema', () => {
    const call = () =>
      toChatRequest(
        {
          model: 'm',
          input: 'hi',
          tools: [
            { type: 'function', parameters: { type: 'object' } },
            { type: 'function', name: 'weather', parameters: '{"type":"object"}', description: 7, strict: 'yes' },
          ],
        },
        'anthropic',
      );
    expect(call).toThrow(
      expect.objectContaining({ fields: ['tools[0].name', 'tools[1].description', 'tools[1].parameters', 'tools[1].strict'] }),
    );
    expect(call).not.toThrow(/built-in/);
    const { request } = toChatRequest(
      { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters: null, description: null, strict: null }] },
      'anthropic',
    );
    expect(request.tools).toEqual([{ type: 'function', name: 'f' }]);
  });

  it('refuses an answer format or image detail it would otherwise send otherwise than asked', () => {
    const schema = { type: 'object' };
    const call = () =>
      toChatRequest(
        {
          model: 'm',
          input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'original' }] }],
          text: { format: { type: 'json_schema', name: 7, schema, strict: 'yes', description: false } },
        },
        'anthropic',
      );
    expect(call).toThrow(
      expect.objectContaining({
        fields: ['text.format.name', 'text.format.strict', 'text.format.description', 'input[0].content[0].detail'],
      }),
    );
    expect(call).toThrow(/"input\[0\].content\[0\].detail" \(must be low, high or auto/);
    const { request } = toChatRequest(
      { model: 'm', input: 'hi', text: { format: { type: 'json_schema', schema, strict: null, description: null } } },
      'anthropic',
    );
    expect(request.responseFormat).toEqual({ type: 'json_schema', name: 'response', schema });
  });

  it('takes back the reasoning and image_generation_call items a translated answer gave: the images on their turn, the reasoning not sent on', () => {
    const { request } = toChatRequest(
      {
        model: 'm',
        input: [
          { role: 'user', content: 'Draw a dot.' },
          { id: 'rs_1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'A dot is small.' }] },
          { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A dot.' }] },
          { id: 'ig_1', type: 'image_generation_call', status: 'completed', result: 'iVBORw0KGgoAAAA' },
          { id: 'ig_2', type: 'image_generation_call', status: 'completed', result: '/9j/4AAQ' },
          { role: 'user', content: 'Make it blue.' },
          { id: 'ig_3', type: 'image_generation_call', status: 'completed', result: 'UklGRgAA' },
        ],
      },
      'gemini',
    );
    expect(request.messages).toEqual([
      { role: 'user', content: 'Draw a dot.' },
      {
        role: 'assistant',
        content: 'A dot.',
        images: [
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgoAAAA' },
          { type: 'image', url: 'data:image/jpeg;base64,/9j/4AAQ' },
        ],
      },
      { role: 'user', content: 'Make it blue.' },
      // An image with no turn before it is an assistant turn of its own.
      { role: 'assistant', content: null, images: [{ type: 'image', url: 'data:image/webp;base64,UklGRgAA' }] },
    ]);
  });

  it('refuses an image_generation_call item without an image, or with bytes in no image format, naming the field', () => {
    const input = (result: unknown) => [
      { role: 'user', content: 'Draw a dot.' },
      { id: 'ig_1', type: 'image_generation_call', status: 'failed', result },
    ];
    for (const result of [null, '', 'AAAA']) {
      expect(() => toChatRequest({ model: 'm', input: input(result) }, 'gemini')).toThrow(/"input\[1\]\.result"/);
    }
  });
});
