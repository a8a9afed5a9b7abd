import { anthropicWire } from './fake-anthropic-wire.js';

/** How a fake batch ends: as asked, or `failed` (as a whole) or `expired` (half its items done). */
export type FakeBatchEnd = 'completed' | 'failed' | 'expired';

/** A batch on the fake server (OpenAI's or Anthropic's). */
export interface FakeBatch {
  id: string;
  wire: 'openai' | 'azure' | 'anthropic';
  endpoint: string;
  inputFileId: string;
  createdAt: number;
  /** Each line's custom id and what it was answered: a body, or an error. */
  lines: Array<{ customId: string; answer: { ok: true; body: unknown } | { ok: false; status: number; code: string; message: string } }>;
  reads: number;
  end: FakeBatchEnd;
  /** 'cancelling' once a cancel was asked. */
  status: 'in_progress' | 'cancelling' | 'ended';
  outcome: 'completed' | 'failed' | 'expired' | 'cancelled' | undefined;
  endedAt: number | undefined;
  ended: boolean;
  metadata: Record<string, string> | undefined;
  outputFileId: string | undefined;
  errorFileId: string | undefined;
}

/** The lines that ran: all of a completed batch, the first half of an expired or cancelled one. */
export function linesDone(batch: FakeBatch): FakeBatch['lines'] {
  if (batch.outcome === 'completed') return batch.lines;
  if (batch.outcome === 'failed') return [];
  return batch.lines.slice(0, Math.ceil(batch.lines.length / 2));
}

/** The batch as OpenAI's `Batch` object. */
export function openAiBatchBody(batch: FakeBatch): Record<string, unknown> {
  const done = batch.ended ? linesDone(batch) : [];
  const completed = done.filter((line) => line.answer.ok).length;
  const status =
    batch.status === 'cancelling'
      ? 'cancelling'
      : batch.ended
        ? (batch.outcome ?? 'completed')
        : batch.reads === 0
          ? 'validating'
          : 'in_progress';
  const body: Record<string, unknown> = {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status,
    created_at: batch.createdAt,
    expires_at: batch.createdAt + 86_400,
    request_counts: { total: batch.lines.length, completed, failed: batch.ended ? batch.lines.length - completed : 0 },
    metadata: batch.metadata ?? null,
  };
  if (batch.reads > 0 || batch.ended) body['in_progress_at'] = batch.createdAt;
  if (batch.outputFileId !== undefined) body['output_file_id'] = batch.outputFileId;
  if (batch.errorFileId !== undefined) body['error_file_id'] = batch.errorFileId;
  if (batch.ended && batch.endedAt !== undefined)
    body[`${batch.outcome === 'completed' ? 'completed' : `${batch.outcome}`}_at`] = batch.endedAt;
  if (batch.outcome === 'failed')
    body['errors'] = { object: 'list', data: [{ code: 'invalid_request', message: 'The batch failed validation (scripted).', line: 1 }] };
  return body;
}

/** The batch as Anthropic's `MessageBatch`; `url` is the server's origin, for `results_url`. */
export function anthropicBatchBody(batch: FakeBatch, url: string): Record<string, unknown> {
  const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const result of anthropicResultTypes(batch)) counts[result === undefined ? 'processing' : result] += 1;
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: batch.ended ? 'ended' : batch.status === 'cancelling' ? 'canceling' : 'in_progress',
    request_counts: counts,
    ended_at: batch.ended ? new Date((batch.endedAt ?? 0) * 1000).toISOString() : null,
    created_at: new Date(batch.createdAt * 1000).toISOString(),
    expires_at: new Date((batch.createdAt + 86_400) * 1000).toISOString(),
    archived_at: null,
    cancel_initiated_at:
      batch.status === 'cancelling' || batch.outcome === 'cancelled' ? new Date(batch.createdAt * 1000).toISOString() : null,
    results_url: batch.ended ? `${url}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/** Each line's result type on Anthropic's wire; undefined while it is still processing. */
function anthropicResultTypes(batch: FakeBatch): Array<'succeeded' | 'errored' | 'canceled' | 'expired' | undefined> {
  if (!batch.ended) return batch.lines.map(() => undefined);
  const done = linesDone(batch);
  return batch.lines.map((line) => {
    if (batch.outcome === 'failed') return 'errored';
    if (!done.includes(line)) return batch.outcome === 'expired' ? 'expired' : 'canceled';
    return line.answer.ok ? 'succeeded' : 'errored';
  });
}

/** The results file of an ended Anthropic batch (JSON Lines). */
export function anthropicResultsText(batch: FakeBatch): string {
  const types = anthropicResultTypes(batch);
  return `${batch.lines
    .map((line, index) => {
      const type = types[index];
      const answer = line.answer;
      const result =
        type === 'succeeded' && answer.ok
          ? { type, message: answer.body }
          : type === 'errored'
            ? {
                type,
                error: answer.ok
                  ? anthropicWire.errorBody(500, 'api_error', 'The batch failed (scripted).')
                  : anthropicWire.errorBody(answer.status, undefined, answer.message),
              }
            : { type };
      return JSON.stringify({ custom_id: line.customId, result });
    })
    .join('\n')}\n`;
}

/** Now, in Unix seconds. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A `File` object (OpenAI's `OpenAIFile`). */
export function fileObject(file: {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  createdAt: number;
}): Record<string, unknown> {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.createdAt + 30 * 86_400,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
  };
}
