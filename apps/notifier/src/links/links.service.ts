import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CONFIG } from '#libs/config';
import { queryRows } from '#libs/database';
import type { NotifierConfig } from '../config.js';
import type { ResponderActionName } from '../replies/responder-actions.service.js';
import { signLink, verifyLink } from './link-token.js';

export interface ActionLinkRow {
  id: string;
  user_id: string;
  incident_ids: string[];
  action: ResponderActionName;
  channel: 'email' | 'push';
  expires_at: Date;
  used_at: Date | null;
}

export type LinkLookup = { state: 'valid'; link: ActionLinkRow } | { state: 'invalid' | 'expired' | 'used'; link?: ActionLinkRow };

/** Signed, expiring, single-use acknowledge/resolve links for email and push. */
@Injectable()
export class LinksService {
  constructor(@Inject(CONFIG) private readonly config: NotifierConfig) {}

  /** Creates links in the caller's transaction (the one that sends the message); returns their tokens, in order. */
  async create(
    em: EntityManager,
    links: { userId: string; incidentIds: string[]; action: ResponderActionName; channel: 'email' | 'push' }[],
    now: Date,
  ): Promise<string[]> {
    if (links.length === 0) return [];
    const ids = links.map(() => randomUUID());
    const expires = new Date(now.getTime() + this.config.LINK_TTL_MINUTES * 60_000);
    await em.query(
      `INSERT INTO action_links (id, user_id, incident_ids, action, channel, expires_at, created_at)
       SELECT id, user_id, ARRAY(SELECT jsonb_array_elements_text(incidents))::uuid[], action, channel, $6, $7
       FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::text[], $5::text[]) AS l(id, user_id, incidents, action, channel)`,
      [ids, links.map((l) => l.userId), links.map((l) => JSON.stringify(l.incidentIds)), links.map((l) => l.action), links.map((l) => l.channel), expires, now],
    );
    return ids.map((id) => signLink(this.config.AUTH_SECRET, id));
  }

  url(token: string): string {
    return `${this.config.PUBLIC_URL}/l/${token}`;
  }

  async lookup(em: EntityManager, token: string, now: Date, opts: { lock?: boolean } = {}): Promise<LinkLookup> {
    const id = verifyLink(this.config.AUTH_SECRET, token);
    if (!id) return { state: 'invalid' };
    const [link]: ActionLinkRow[] = await em.query(`SELECT * FROM action_links WHERE id = $1 ${opts.lock ? 'FOR UPDATE' : ''}`, [id]);
    if (!link) return { state: 'invalid' };
    if (link.used_at) return { state: 'used', link };
    if (link.expires_at.getTime() <= now.getTime()) return { state: 'expired', link };
    return { state: 'valid', link };
  }

  /** Marks the link used; false if someone used it first. */
  async consume(em: EntityManager, id: string, now: Date): Promise<boolean> {
    const rows = await queryRows(em, `UPDATE action_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id`, [id, now]);
    return rows.length === 1;
  }
}
