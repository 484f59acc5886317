import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { NotFoundError, untilArrived } from '#libs/platform';

/** A user id in a route (`/api/v1/users/:userId/…`). */
export const UserId = z.uuid({ message: 'must be a user id (a UUID)' });

/** How long a request about a user notifier has not heard of waits for oncall's directory event. */
const ARRIVAL_WAIT_MS = 5000;

/**
 * Resolves when notifier's copy of the directory has this user. A user created in oncall reaches
 * notifier through Kafka a moment later, so a client that adds a contact method right after
 * creating the user waits for it (up to 5 s) instead of getting a 404 for a user that exists.
 */
export async function requireKnownUser(db: DataSource, userId: string): Promise<void> {
  // A deleted user will not come back; an unknown one may still be on its way.
  const found = await untilArrived(async () => {
    const [u] = await db.query<{ deleted: boolean }[]>('SELECT deleted FROM users WHERE id = $1', [userId]);
    return u;
  }, ARRIVAL_WAIT_MS);
  if (!found || found.deleted) throw new NotFoundError('User', userId);
}
