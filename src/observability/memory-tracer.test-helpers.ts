import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** A span that keeps what was recorded, for assertions. */
export class RecordedSpan implements Span {
  readonly attributes: Record<string, AttributeValue> = {};
  readonly exceptions: Exception[] = [];
  status: SpanStatus = { code: 0 };
  ended = false;

  constructor(
    public name: string,
    readonly options: SpanOptions,
  ) {
    Object.assign(this.attributes, options.attributes ?? {});
  }

  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) this.attributes[key] = value;
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(name: string): this {
    this.name = name;
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: Exception): void {
    this.exceptions.push(exception);
  }
}

/** The smallest tracer provider that records spans: the API's interfaces, no SDK. */
export class MemoryTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    const spans = this.spans;
    const startSpan = (name: string, options: SpanOptions = {}, _context?: Context): RecordedSpan => {
      const span = new RecordedSpan(name, options);
      spans.push(span);
      return span;
    };
    return {
      startSpan,
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest.at(-1) as (span: Span) => unknown;
        const options = (rest.length > 1 ? rest[0] : {}) as SpanOptions;
        return fn(startSpan(name, options));
      }) as Tracer['startActiveSpan'],
    };
  }
}

/** Registers a fresh {@link MemoryTracerProvider} globally; call `trace.disable()` after the test. */
export function registerMemoryTracer(): MemoryTracerProvider {
  const provider = new MemoryTracerProvider();
  trace.setGlobalTracerProvider(provider);
  return provider;
}
