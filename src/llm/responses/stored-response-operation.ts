import type { ResponseObject } from './responses-types.js';

/**
 * One thing done with a stored response at the upstream that holds it: a request to
 * `/responses/{id}` and what follows it, whose JSON answer is a `T`. The search for that upstream
 * is the same for each (see `atStoredResponse`).
 */
export interface StoredResponseOperation<T> {
  /** What it does, in the words of its errors: `retrieving` (a stored response). */
  readonly doing: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** What follows the id in the path: nothing, `/cancel`, `/input_items`. */
  readonly suffix: string;
  /** Whether the response is gone once it succeeds: its upstream is then forgotten rather than remembered. @default false */
  readonly removes?: boolean;
  /**
   * Whether it changes the response (cancel, delete): it is then sent once, only to the upstream
   * found holding the id, since sending it to another may be applied there too. @default false
   */
  readonly mutates?: boolean;
  /** The upstream's JSON answer as what it is, passed on as the upstream sent it. */
  readonly answer: (data: unknown) => T;
}

/** What `DELETE /responses/{id}` answers, as the upstream sent it (OpenAI: `{ id, object: 'response', deleted: true }`). */
export type DeletedResponse = Readonly<Record<string, unknown>> & { readonly id?: string; readonly deleted?: boolean };

/** A page of a response's input items, as the upstream sent it (OpenAI's `ResponseItemList`). */
export type ResponseItemList = Readonly<Record<string, unknown>> & {
  readonly object: 'list';
  readonly data: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly first_id?: string | null;
  readonly last_id?: string | null;
  readonly has_more: boolean;
};

/** `GET /responses/{id}`: the response. */
export const RETRIEVE: StoredResponseOperation<ResponseObject> = {
  doing: 'retrieving',
  method: 'GET',
  suffix: '',
  answer: (data) => data as ResponseObject,
};

/** `POST /responses/{id}/cancel`: a background response cancelled, as it then stands. */
export const CANCEL: StoredResponseOperation<ResponseObject> = {
  doing: 'cancelling',
  method: 'POST',
  suffix: '/cancel',
  mutates: true,
  answer: (data) => data as ResponseObject,
};

/** `DELETE /responses/{id}`: the response deleted. */
export const DELETE: StoredResponseOperation<DeletedResponse> = {
  doing: 'deleting',
  method: 'DELETE',
  suffix: '',
  removes: true,
  mutates: true,
  answer: (data) => data as DeletedResponse,
};

/** `GET /responses/{id}/input_items`: a page of the items the response was made from. */
export const LIST_INPUT_ITEMS: StoredResponseOperation<ResponseItemList> = {
  doing: 'listing the input items of',
  method: 'GET',
  suffix: '/input_items',
  answer: (data) => data as ResponseItemList,
};
