import { GroundworkError } from '../errors/groundwork-error.js';

/** A stored cache value could not be read back (not JSON, an unknown version, a wrong shape). */
export class CorruptCacheEntryError extends GroundworkError {
  /** What was wrong with the value; never the value itself. */
  readonly reason: string;

  constructor(reason: string) {
    super('cache_entry_corrupt', `A cached response could not be read (${reason}); it is treated as a miss and removed.`);
    this.reason = reason;
  }
}
