import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { NotFoundError } from '#libs/platform';

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
  const deadline = Date.now() + ARRIVAL_WAIT_MS;
  for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
    const [u] = await db.query<{ deleted: boolean }[]>('SELECT deleted FROM users WHERE id = $1', [userId]);
    if (u && !u.deleted) return;
    // A deleted user will not come back; an unknown one may still be on its way.
    if (u || Date.now() + wait > deadline) throw new NotFoundError('User', userId);
    await new Promise((r) => setTimeout(r, wait));
  }
}
