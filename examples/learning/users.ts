import { randomUUID } from 'node:crypto';
import type { Infrastructure } from 'groundwork';
import type { Selectable } from 'kysely';
import type { LearningTables, UsersTable } from './tables.js';

/** A stored user. */
export type User = Selectable<UsersTable>;

/** What the user functions need from Groundwork. */
export type SessionRunner = Pick<Infrastructure<LearningTables>, 'withSession'>;

/** The longest username the `users` table holds (`varchar(100)`). */
export const USERNAME_MAX_LENGTH = 100;

/** What is wrong with `username` for the `users` table, or undefined when it fits. */
export function usernameProblem(username: string): string | undefined {
  const length = Array.from(username).length;
  if (username.trim() !== '' && length <= USERNAME_MAX_LENGTH) return undefined;
  return `must be 1 to ${USERNAME_MAX_LENGTH} characters; got ${username.trim() === '' ? 'a blank one' : length}`;
}

/** Who to create. */
export interface NewUser {
  username: string;
  telegramId?: number;
}

/**
 * The seed's `create_user`: inserts a user in a session that commits when it returns and rolls
 * back if it throws. Inside another `withSession` it joins that transaction (as a savepoint), so
 * it composes into larger units of work.
 *
 * @example
 * ```ts
 * const alice = await createUser(infra, { username: 'alice', telegramId: 42 });
 * ```
 */
export function createUser(infra: SessionRunner, user: NewUser): Promise<User> {
  return infra.withSession(async (tx) => {
    const row: User = {
      id: randomUUID(),
      username: user.username,
      telegram_id: user.telegramId ?? null,
      created_at: new Date().toISOString(),
    };
    await tx.insertInto('users').values(row).execute();
    return row;
  });
}

/**
 * The user called `username`, created if there is none yet. Two callers creating the same new
 * user at once both get the one that was stored: the insert that loses the race runs in its own
 * savepoint, so it rolls back alone and the winner's row is read instead.
 */
export function findOrCreateUser(infra: SessionRunner, username: string): Promise<User> {
  return infra.withSession(async (tx) => {
    const find = () => tx.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    const existing = await find();
    if (existing !== undefined) return existing;
    try {
      return await createUser(infra, { username });
    } catch (error) {
      const stored = await find();
      if (stored === undefined) throw error;
      return stored;
    }
  });
}
