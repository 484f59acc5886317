import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import { queryRows } from '#libs/database';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A request's value when it is a UUID (owners are looked up before validation, which answers the rest). */
export function uuidOf(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value : undefined;
}

/** UUIDs among a request's array value (e.g. a maintenance window's serviceIds). */
export function uuidsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(uuidOf).filter((v): v is string => v !== undefined) : [];
}

/**
 * Owning teams from one query whose rows have a `team_id` column; null (let the handler answer its
 * own 404) when it finds no row.
 */
export async function teamsFrom(db: DataSource, sql: string, params: unknown[]): Promise<(string | null)[] | null> {
  const rows = await queryRows<{ team_id: string | null }>(db, sql, params);
  return rows.length === 0 ? null : rows.map((r) => r.team_id);
}

/** The team a request's body gives what it creates or moves (teamId), when it names one; undefined when absent. */
export function bodyTeam(req: Request): string | null | undefined {
  const body = req.body as { teamId?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !('teamId' in body)) return undefined;
  return body.teamId === null ? null : (uuidOf(body.teamId) ?? undefined);
}
