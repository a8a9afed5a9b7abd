/** The providers' batch window: OpenAI, Azure and Anthropic end a batch within 24 hours. */
export const BATCH_WINDOW_MS = 86_400_000;

/** The longest poll interval a batch may ask for. */
export const MAX_BATCH_POLL_INTERVAL_MS = 86_400_000;

/** A batch's budget reservation holds this long past its window and one poll interval (a final poll run late). */
export const BATCH_LEASE_MARGIN_MS = 6 * 3_600_000;

/** How long a batch's budget reservation is held at most, from when it was made: 54 hours. */
export const LONGEST_BATCH_LEASE_MS = BATCH_WINDOW_MS + MAX_BATCH_POLL_INTERVAL_MS + BATCH_LEASE_MARGIN_MS;
