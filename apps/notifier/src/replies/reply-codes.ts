import type { EntityManager } from 'typeorm';
import { queryRows } from '#libs/database';

export interface ReplyCodeRow {
  destination: string;
  code: number;
  user_id: string;
  incident_ids: string[];
  last_sent_at: Date;
}

const SINGLE = { min: 1, max: 99 };
const BUNDLE = { min: 100, max: 999 };

/**
 * GoAlert-style reply codes, per phone number: each open incident paged to the number gets the
 * smallest free code (1, 2, 3…), a bundle gets one from 100. Codes stay mapped after the incident
 * closes (so a late "1a" gets "already resolved", not "unknown code") until the number needs them
 * again; then codes whose incidents are all resolved are reused first, else the least recently sent.
 */
export async function assignReplyCode(em: EntityManager, destination: string, userId: string, incidentIds: string[], now: Date): Promise<number> {
  // One assignment at a time per number: two concurrent sends must not pick the same free code.
  await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reply-codes:${destination}`]);
  const single = incidentIds.length === 1;
  if (single) {
    const [existing]: { code: number }[] = await em.query(`SELECT code FROM reply_codes WHERE destination = $1 AND code < 100 AND incident_ids[1] = $2`, [
      destination,
      incidentIds[0],
    ]);
    if (existing) {
      await em.query(`UPDATE reply_codes SET last_sent_at = $3, user_id = $4 WHERE destination = $1 AND code = $2`, [destination, existing.code, now, userId]);
      return existing.code;
    }
  }
  const range = single ? SINGLE : BUNDLE;
  // Codes whose incidents are all resolved are free again.
  await em.query(
    `DELETE FROM reply_codes rc WHERE destination = $1 AND code BETWEEN $2 AND $3
       AND NOT EXISTS (SELECT 1 FROM unnest(rc.incident_ids) AS i(id) LEFT JOIN incidents x ON x.id = i.id WHERE x.status IS DISTINCT FROM 'resolved')`,
    [destination, range.min, range.max],
  );
  let [{ code } = { code: null }]: { code: number | null }[] = await em.query(
    `SELECT min(g)::int AS code FROM generate_series($2::int, $3::int) g WHERE NOT EXISTS (SELECT 1 FROM reply_codes WHERE destination = $1 AND code = g)`,
    [destination, range.min, range.max],
  );
  if (code === null) {
    const [oldest] = await queryRows<{ code: number }>(
      em,
      `DELETE FROM reply_codes WHERE (destination, code) = (SELECT destination, code FROM reply_codes WHERE destination = $1 AND code BETWEEN $2 AND $3 ORDER BY last_sent_at LIMIT 1) RETURNING code`,
      [destination, range.min, range.max],
    );
    code = oldest!.code;
  }
  await em.query(`INSERT INTO reply_codes (destination, code, user_id, incident_ids, last_sent_at) VALUES ($1, $2, $3, $4::uuid[], $5)`, [
    destination,
    code,
    userId,
    incidentIds,
    now,
  ]);
  return code;
}

/** The code a reply names, or the latest page to the number when it names none ("ack"). */
export async function findReplyCode(em: EntityManager, destination: string, code: number | null): Promise<ReplyCodeRow | undefined> {
  const [row]: ReplyCodeRow[] =
    code === null
      ? await em.query(`SELECT * FROM reply_codes WHERE destination = $1 ORDER BY last_sent_at DESC LIMIT 1`, [destination])
      : await em.query(`SELECT * FROM reply_codes WHERE destination = $1 AND code = $2`, [destination, code]);
  return row;
}

export async function latestReplyCode(em: EntityManager, destination: string): Promise<number | null> {
  return (await findReplyCode(em, destination, null))?.code ?? null;
}
