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

  /** Creates a link in the caller's transaction (the one that sends the message) and returns its token. */
  async create(em: EntityManager, input: { userId: string; incidentIds: string[]; action: ResponderActionName; channel: 'email' | 'push'; now: Date }): Promise<string> {
    const id = randomUUID();
    const expires = new Date(input.now.getTime() + this.config.LINK_TTL_MINUTES * 60_000);
    await em.query(`INSERT INTO action_links (id, user_id, incident_ids, action, channel, expires_at, created_at) VALUES ($1, $2, $3::uuid[], $4, $5, $6, $7)`, [
      id,
      input.userId,
      input.incidentIds,
      input.action,
      input.channel,
      expires,
      input.now,
    ]);
    return signLink(this.config.AUTH_SECRET, id);
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
