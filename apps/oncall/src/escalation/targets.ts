import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Target } from './policy.js';

export interface PagedUser {
  id: string;
  name: string;
  email: string;
}

/** Turns a step's targets into the users to page at a moment. */
@Injectable()
export class TargetResolver {
  async resolve(em: EntityManager, targets: Target[], _at: Date): Promise<PagedUser[]> {
    const userIds = targets.filter((t) => t.type === 'user').map((t) => t.id);
    if (!userIds.length) return [];
    // Users deleted since the policy was snapshotted are skipped; order follows the step's list.
    const rows: PagedUser[] = await em.query('SELECT id, name, email FROM users WHERE id = ANY($1::uuid[])', [userIds]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return [...new Set(userIds)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }
}
