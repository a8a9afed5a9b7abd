import { context, SpanKind, trace } from '@opentelemetry/api';
import type { EmbeddingResponse } from '../llm/embeddings/embedding-response.js';
import { GEN_AI, genAiProviderName, groundworkTracer, recordSpanError } from './tracing.js';

/** Describes one embeddings request for its span. */
export interface EmbeddingSpanOptions {
  provider: string;
  model: string;
  inputs: number;
  dimensions?: number | undefined;
}

/**
 * Runs one embeddings request in a client span `embeddings {model}` with
 * `gen_ai.operation.name = embeddings`: the request model and the input count at the start, the
 * response model, the input tokens and the vector length when it answers; input text never.
 */
export async function traceEmbeddings(options: EmbeddingSpanOptions, call: () => Promise<EmbeddingResponse>): Promise<EmbeddingResponse> {
  const span = groundworkTracer().startSpan(`embeddings ${options.model}`, { kind: SpanKind.CLIENT });
  if (span.isRecording()) {
    span.setAttributes({
      [GEN_AI.operationName]: 'embeddings',
      [GEN_AI.providerName]: genAiProviderName(options.provider),
      [GEN_AI.requestModel]: options.model,
      'groundwork.embeddings.inputs': options.inputs,
      ...(options.dimensions === undefined ? {} : { 'gen_ai.embeddings.dimension.count': options.dimensions }),
    });
  }
  try {
    const response = await context.with(trace.setSpan(context.active(), span), call);
    if (span.isRecording()) {
      span.setAttributes({
        [GEN_AI.responseModel]: response.model,
        [GEN_AI.usageInputTokens]: response.usage.promptTokens,
        'gen_ai.embeddings.dimension.count': response.vectors[0]?.length ?? 0,
      });
    }
    return response;
  } catch (error) {
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}
