import type { InFlightCalls } from '../in-flight-calls.js';
import { onAbandon } from './on-abandon.js';
import type { ResponseStreamEvent, ResponsesResult } from './responses-types.js';

/**
 * Runs one Responses call as an in-flight call of the client: closing the client waits for it (a
 * stream until its last event is read or it is abandoned) and cuts it when the drain gives up.
 */
export async function respondCounted(
  inFlight: InFlightCalls,
  callerSignal: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<ResponsesResult>,
): Promise<ResponsesResult> {
  const end = inFlight.begin();
  const linked = inFlight.link(callerSignal);
  const finish = () => {
    linked.dispose();
    end();
  };
  let result: ResponsesResult;
  try {
    result = await run(linked.signal);
  } catch (error) {
    finish();
    throw error;
  }
  if (!result.stream) {
    finish();
    return result;
  }
  const source = result.events;
  async function* events(): AsyncGenerator<ResponseStreamEvent, void, undefined> {
    try {
      yield* source;
    } finally {
      finish();
    }
  }
  return {
    ...result,
    events: onAbandon(events(), async () => {
      await source[Symbol.asyncIterator]().return?.();
      finish();
    }),
  };
}
