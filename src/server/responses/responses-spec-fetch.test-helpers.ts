import { validateOpenAiSchema } from '../../../test/openai-spec.js';

/** The spec's schema for each event type a response streams: text, refusal, function calls, reasoning, images. */
const EVENT_SCHEMAS: Readonly<Record<string, string>> = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.output_text.annotation.added': 'ResponseOutputTextAnnotationAddedEvent',
  'response.reasoning_text.delta': 'ResponseReasoningTextDeltaEvent',
  'response.reasoning_text.done': 'ResponseReasoningTextDoneEvent',
  'response.image_generation_call.completed': 'ResponseImageGenCallCompletedEvent',
  'response.refusal.delta': 'ResponseRefusalDeltaEvent',
  'response.refusal.done': 'ResponseRefusalDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  'response.failed': 'ResponseFailedEvent',
  error: 'ResponseErrorEvent',
};

/** A `fetch` for clients under test that checks every Responses API answer and event against OpenAI's spec. */
export interface ResponsesSpecFetch {
  fetch: typeof fetch;
  /** Answers and events checked so far. */
  readonly checked: number;
  /** Event types seen, in order, over every stream read. */
  readonly eventTypes: string[];
  /** Waits for the checks of every answer received so far; returns their problems (empty: all valid). */
  problems(): Promise<string[]>;
}

/**
 * The spec's schema of a successful answer to `method` on `path`: `Response` for a call, a
 * retrieval or a cancellation, `ResponseItemList` for a page of input items, `DeletedResponse`-like
 * (checked by hand: the spec gives a deletion's answer no schema) for a deletion.
 */
function answerSchema(method: string, path: string): string | undefined {
  if (/\/responses\/[^/]+\/input_items$/.test(path)) return 'ResponseItemList';
  if (method === 'DELETE' && /\/responses\/[^/]+$/.test(path)) return DELETED;
  if (/\/responses(\/[^/]+(\/cancel)?)?$/.test(path)) return 'Response';
  return undefined;
}

/** A deletion's answer, `{ id, object: 'response', deleted: true }`, which the spec shows in an example only. */
const DELETED = 'deleted response';

/**
 * Wraps `fetch`: each successful answer under `/responses` is read a second time and validated
 * against the spec's schema for it (see {@link answerSchema}), or event by event as
 * `ResponseStreamEvent` (with the SSE event name equal to the data's `type`) when it is an event
 * stream. Error answers are left to the tests.
 */
export function responsesSpecFetch(): ResponsesSpecFetch {
  const pending: Array<Promise<string[]>> = [];
  const eventTypes: string[] = [];
  let checked = 0;
  const check = async (response: Response, schema: string): Promise<string[]> => {
    const text = await response.text();
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      checked++;
      if (schema === DELETED) return deletedProblems(JSON.parse(text));
      return validateOpenAiSchema(schema, JSON.parse(text)).map((problem) => `answer ${problem}`);
    }
    const problems: string[] = [];
    for (const frame of text.split('\n\n')) {
      if (frame.trim() === '') continue;
      const lines = frame.split('\n');
      const name = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines.find((line) => line.startsWith('data: '))?.slice('data: '.length);
      if (data === undefined) continue;
      checked++;
      const event = JSON.parse(data) as { type?: string };
      eventTypes.push(String(event.type));
      if (name !== event.type) problems.push(`event name ${String(name)} differs from its type ${String(event.type)}`);
      const schema = EVENT_SCHEMAS[String(event.type)];
      if (schema === undefined) {
        problems.push(`event type ${String(event.type)} is not one this suite knows`);
        continue;
      }
      problems.push(...validateOpenAiSchema(schema, event).map((problem) => `event ${problem}: ${data.slice(0, 300)}`));
    }
    return problems;
  };
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const schema = answerSchema(method, new URL(url).pathname);
      if (response.ok && schema !== undefined) pending.push(check(response.clone(), schema));
      return response;
    },
    get checked() {
      return checked;
    },
    get eventTypes() {
      return eventTypes;
    },
    async problems() {
      return (await Promise.all(pending)).flat();
    },
  };
}

/** The problems of a deletion's answer against the shape of the spec's example. */
function deletedProblems(body: unknown): string[] {
  const { id, object, deleted } = (body ?? {}) as { id?: unknown; object?: unknown; deleted?: unknown };
  return typeof id === 'string' && object === 'response' && deleted === true ? [] : [`deletion answer ${JSON.stringify(body)}`];
}
