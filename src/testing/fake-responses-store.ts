/** Settings of the fake's background responses. */
export interface FakeBackgroundSettings {
  /** How many reads (`GET`) of a background response answer `in_progress` before one answers it completed. @default 1 */
  readsBeforeEnd: number;
  /** Never complete by itself: only {@link FakeStoredResponses.complete} completes it. @default false */
  manual: boolean;
}

/** What the fake answers one stored-response request with: a JSON body, or an error in OpenAI's shape. */
export type FakeStoreAnswer = { status: 200; body: unknown } | { status: 400 | 404; message: string };

/** Statuses from which a background response moves no more. */
const ENDED = new Set(['completed', 'incomplete', 'failed', 'cancelled']);

interface Stored {
  /** The response as it is once it ends. */
  final: Record<string, unknown>;
  /** The call's input, as items with ids. */
  input: Array<Record<string, unknown>>;
  background: boolean;
  status: string;
  /** Reads of a background response so far. */
  reads: number;
}

/**
 * The responses the fake server's Responses API keeps (those not sent with `store: false`), by id,
 * and what can be done with them as OpenAI offers it: read (`GET /v1/responses/{id}`), cancel
 * (`POST …/cancel`), delete (`DELETE …`) and list the input items (`GET …/input_items`).
 *
 * A call with `background: true` is answered `queued`, its output empty. Each later read moves it
 * on, with no timer: the first `readsBeforeEnd` reads answer `in_progress`, the next the response
 * completed (the scripted answer); with `manual`, only {@link complete} completes it. Cancelling a
 * queued or in-progress background response makes it `cancelled` for good (output still empty);
 * cancelling a cancelled one answers it again, as OpenAI does; cancelling a response that was not
 * made in the background is OpenAI's 400 `Cannot cancel a synchronous response.`, and one that
 * ended otherwise a 400 saying so. A streamed background call streams as any other, and is kept
 * completed.
 */
export class FakeStoredResponses {
  readonly settings: FakeBackgroundSettings = { readsBeforeEnd: 1, manual: false };
  readonly #responses = new Map<string, Stored>();

  /**
   * Keeps the response a call made (`final`, as it is once it ends) and answers what the call gets:
   * the response itself, or, for a background call not streamed, the response `queued`.
   */
  keep(final: Record<string, unknown>, body: Readonly<Record<string, unknown>>, streamed: boolean): Record<string, unknown> {
    const id = String(final['id']);
    const background = body['background'] === true;
    const status = background && !streamed ? 'queued' : String(final['status']);
    this.#responses.set(id, { final, input: inputItems(id, body['input']), background, status, reads: 0 });
    return this.#view(this.#responses.get(id)!);
  }

  /** The response `id` as a read finds it (a background one moved on a step), or a 404. */
  read(id: string): FakeStoreAnswer {
    const stored = this.#responses.get(id);
    if (stored === undefined) return notFound(id);
    if (!ENDED.has(stored.status)) {
      stored.reads++;
      stored.status = !this.settings.manual && stored.reads > this.settings.readsBeforeEnd ? String(stored.final['status']) : 'in_progress';
    }
    return { status: 200, body: this.#view(stored) };
  }

  /** Cancels the background response `id`: see the class. */
  cancel(id: string): FakeStoreAnswer {
    const stored = this.#responses.get(id);
    if (stored === undefined) return notFound(id);
    if (!stored.background) return { status: 400, message: 'Cannot cancel a synchronous response.' };
    if (stored.status === 'cancelled' || !ENDED.has(stored.status)) {
      stored.status = 'cancelled';
      return { status: 200, body: this.#view(stored) };
    }
    return { status: 400, message: `Cannot cancel a response that is already ${stored.status}.` };
  }

  /** Deletes the response `id`: later requests for it answer 404. */
  delete(id: string): FakeStoreAnswer {
    if (!this.#responses.delete(id)) return notFound(id);
    return { status: 200, body: { id, object: 'response', deleted: true } };
  }

  /**
   * One page of the input items of `id`, as OpenAI lists them: `order` `desc` (the default) or
   * `asc`, `limit` 1 to 100 (default 20), starting after the item `after` or ending before the
   * item `before`; `include` is accepted and changes nothing. A bad value or an unknown item id is a 400.
   */
  inputItems(id: string, query: Readonly<Record<string, string>>): FakeStoreAnswer {
    const stored = this.#responses.get(id);
    if (stored === undefined) return notFound(id);
    const order = query['order'] ?? 'desc';
    if (order !== 'asc' && order !== 'desc') return { status: 400, message: `Invalid 'order': must be asc or desc, not ${order}.` };
    const limit = query['limit'] === undefined ? 20 : Number(query['limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return { status: 400, message: `Invalid 'limit': must be a whole number from 1 to 100, not ${query['limit']}.` };
    }
    let items = order === 'asc' ? [...stored.input] : [...stored.input].reverse();
    for (const param of ['after', 'before'] as const) {
      const cursor = query[param];
      if (cursor === undefined) continue;
      const at = items.findIndex((item) => item['id'] === cursor);
      if (at === -1) return { status: 400, message: `Invalid '${param}': no input item with id '${cursor}' in response '${id}'.` };
      items = param === 'after' ? items.slice(at + 1) : items.slice(0, at);
    }
    const page = query['before'] !== undefined && query['after'] === undefined ? items.slice(-limit) : items.slice(0, limit);
    const more = items.length > page.length;
    return {
      status: 200,
      body: { object: 'list', data: page, first_id: page[0]?.['id'] ?? null, last_id: page.at(-1)?.['id'] ?? null, has_more: more },
    };
  }

  /** Completes the background response `id` (every one not ended, without `id`), as a later read will find it. */
  complete(id?: string): void {
    for (const [key, stored] of this.#responses) {
      if ((id === undefined || key === id) && !ENDED.has(stored.status)) stored.status = String(stored.final['status']);
    }
  }

  /** Forgets every response and restores the default settings. */
  reset(): void {
    this.#responses.clear();
    this.settings.readsBeforeEnd = 1;
    this.settings.manual = false;
  }

  /** The response as it stands: the final one once completed; before, or once cancelled, without output or usage. */
  #view(stored: Stored): Record<string, unknown> {
    const background: Record<string, unknown> = { ...stored.final, background: stored.background };
    if (stored.status === stored.final['status']) return background;
    const { usage: _usage, ...rest } = background;
    return { ...rest, status: stored.status, output: [], completed_at: null, incomplete_details: null };
  }
}

/** OpenAI's 404 for an id it keeps no response under. */
function notFound(id: string): FakeStoreAnswer {
  return { status: 404, message: `Response with id '${id}' not found.` };
}

/**
 * A call's `input` as OpenAI lists it: a text as one user message, each message's text content as
 * `input_text` parts (`output_text` for the assistant's), each item given an id when it has none
 * and a `completed` status.
 */
function inputItems(responseId: string, input: unknown): Array<Record<string, unknown>> {
  const items: unknown[] = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : [];
  return items.map((entry, index) => {
    const item = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : { content: String(entry) };
    const id = typeof item['id'] === 'string' ? item['id'] : `msg_${responseId}_input_${index}`;
    if (item['type'] !== undefined && item['type'] !== 'message') return { status: 'completed', ...item, id };
    const assistant = item['role'] === 'assistant';
    const content =
      typeof item['content'] === 'string'
        ? [
            assistant
              ? { type: 'output_text', text: item['content'], annotations: [], logprobs: [] }
              : { type: 'input_text', text: item['content'] },
          ]
        : item['content'];
    return { ...item, id, type: 'message', status: 'completed', content };
  });
}
