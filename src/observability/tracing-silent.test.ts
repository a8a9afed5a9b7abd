import { type Context, type ContextManager, context, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { completionOf } from '../llm/model/completion-of.js';
import type { ChatCompletion, ChatRequest } from '../llm/types.js';
import { MemoryTracerProvider, RecordedSpan } from './memory-tracer.test-helpers.js';
import { traceLlmCall, traceLlmStream } from './tracing.js';

const request: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const completion: ChatCompletion = completionOf({
  provider: 'openai',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { content: 'hello' }, finishReason: 'stop' }],
  usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
});

afterEach(() => {
  trace.disable();
  context.disable();
});

/** A context manager for synchronous code: enough for what a call reads before its first await. */
class StackContextManager implements ContextManager {
  #active: Context = ROOT_CONTEXT;
  active(): Context {
    return this.#active;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    scope: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.#active;
    this.#active = scope;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#active = previous;
    }
  }
  bind<T>(_scope: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#active = ROOT_CONTEXT;
    return this;
  }
}

describe('LLM calls without a tracer', () => {
  it('hand the call a span with the active span’s context, never the active span itself', async () => {
    context.setGlobalContextManager(new StackContextManager());
    const outer = new RecordedSpan('outer', {});
    let seen: Span | undefined;
    await context.with(trace.setSpan(ROOT_CONTEXT, outer), () =>
      traceLlmCall({ provider: 'openai', request }, async (span) => {
        seen = span;
        span.setAttribute('written', 1);
        return completion;
      }),
    );
    expect(seen).not.toBe(outer);
    expect(seen?.isRecording()).toBe(false);
    expect(seen?.spanContext()).toEqual(outer.spanContext());
    expect(outer.attributes).toEqual({});
  });

  it('turn a call that throws at once into a rejected promise, as a traced call does', async () => {
    const failure = new Error('refused before sending');
    let returned: Promise<ChatCompletion> | undefined;
    expect(() => {
      returned = traceLlmCall({ provider: 'openai', request }, () => {
        throw failure;
      });
    }).not.toThrow();
    await expect(returned).rejects.toBe(failure);
  });

  it('record once a provider is registered, and with a tracer passed in even when none is', async () => {
    const passed = new MemoryTracerProvider();
    await traceLlmCall({ provider: 'openai', request, tracer: passed.getTracer() }, async () => completion);
    expect(passed.spans.map((span) => span.name)).toEqual(['chat gpt-4o-mini']);

    const registered = new MemoryTracerProvider();
    trace.setGlobalTracerProvider(registered);
    const events = traceLlmStream({ provider: 'openai', request }, async function* () {
      yield { type: 'done', completion } as const;
    });
    for await (const _ of events) {
      // drained
    }
    expect(registered.spans.map((span) => [span.name, span.ended])).toEqual([['chat gpt-4o-mini', true]]);
  });
});
