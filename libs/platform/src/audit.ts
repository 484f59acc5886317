import { Controller, Get, Inject, Injectable, Query, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { from, type Observable } from 'rxjs';
import { concatMap } from 'rxjs/operators';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { BOOTSTRAP_ADMIN_NAME, Roles, type Principal } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { currentCorrelationId } from '#libs/observability';
import { uuidOf } from './team-owners.js';
import { LOGGER, RUNTIME } from './tokens.js';
import type { Runtime } from './runtime.js';

/** Body fields never written to the audit log, whatever the route (codes, secrets, credentials). */
const SECRET_FIELD = /secret|token|password|code|key|credential|authorization/i;

export interface AuditEntry {
  id: string;
  at: Date;
  actorUserId: string | null;
  actorName: string | null;
  role: string;
  tokenId: string;
  action: string;
  targetId: string | null;
  status: number;
  details: Record<string, unknown>;
  correlationId: string | null;
}

/**
 * The audit log: every change a person (or a token) makes through a management API — users,
 * roles, tokens, schedules, overrides, policies, services, integrations, maintenance windows,
 * contact methods, incident commands — recorded in the service's own database once it succeeded:
 * who (user, role, token id), what (method and route template, e.g. "POST /api/v1/schedules/:id/overrides"),
 * on what (the ids in the path, the created resource's id), when, and the request's fields with
 * secrets removed. Senders' intake (integration keys) and phone webhooks are not people's
 * management actions and are not recorded here; incidents keep their own timeline.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly db: DataSource;

  constructor(
    @Inject(RUNTIME) runtime: Runtime,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.db = runtime.dataSource;
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (req.method === 'GET' || req.method === 'HEAD' || !req.principal) return next.handle();
    const principal = req.principal;
    return next.handle().pipe(
      concatMap((result: unknown) =>
        from(
          this.record(req, principal, ctx.switchToHttp().getResponse<{ statusCode: number }>().statusCode, result).then(
            () => result,
            (err: unknown) => {
              // The change is made: a failed audit write is logged loudly, not turned into an error for the user.
              this.logger.error({ err: String(err), route: req.route?.path }, 'audit log write failed');
              return result;
            },
          ),
        ),
      ),
    );
  }

  private async record(req: Request, p: Principal, status: number, result: unknown): Promise<void> {
    const params = Object.values(req.params ?? {}).filter((v) => typeof v === 'string');
    const createdId = result && typeof result === 'object' && typeof (result as { id?: unknown }).id === 'string' ? (result as { id: string }).id : null;
    const targetId = params.find(isUuid) ?? createdId;
    await this.db.query(
      `INSERT INTO audit_log (at, actor_user_id, actor_name, role, token_id, action, target_id, target_ids, status, details, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10::jsonb, $11)`,
      [
        this.clock.now(),
        p.userId,
        p.userId ? null : BOOTSTRAP_ADMIN_NAME,
        p.role,
        p.tokenId,
        `${req.method} ${String(req.route?.path ?? req.path)}`,
        targetId ?? null,
        [...new Set([...params.filter(isUuid), ...(createdId ? [createdId] : [])])],
        status,
        JSON.stringify({ params: req.params, body: redact(req.body) }),
        currentCorrelationId() ?? null,
      ],
    );
  }
}

const AuditQuery = z.strictObject({
  targetId: z.string().max(200).optional(),
  actorUserId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});

/** GET /api/v1/audit: the service's audit log, newest first (admins). `targetId` shows what concerns one thing. */
@Controller('api/v1/audit')
export class AuditController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get()
  @Roles('admin')
  list(@Query({ schema: AuditQuery }) q: z.output<typeof AuditQuery>): Promise<AuditEntry[]> {
    return queryRows<AuditEntry>(
      this.runtime.dataSource,
      `SELECT id::text, at, actor_user_id AS "actorUserId", actor_name AS "actorName", role, token_id AS "tokenId", action,
              target_id AS "targetId", status, details, correlation_id AS "correlationId"
       FROM audit_log
       WHERE ($1::text IS NULL OR $1 = ANY(target_ids)) AND ($2::uuid IS NULL OR actor_user_id = $2) AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [q.targetId ?? null, q.actorUserId ?? null, q.before ?? null, q.limit],
    );
  }
}

const isUuid = (s: string): boolean => uuidOf(s) !== undefined;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1)]));
  }
  return typeof value === 'string' && value.length > 500 ? `${value.slice(0, 500)}…` : value;
}

export class PlatformAudit1765000000003 implements MigrationInterface {
  name = 'PlatformAudit1765000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor_user_id uuid,
        actor_name text,
        role text NOT NULL,
        token_id text NOT NULL,
        action text NOT NULL,
        target_id text,
        target_ids text[] NOT NULL DEFAULT '{}',
        status int NOT NULL,
        details jsonb NOT NULL,
        correlation_id text
      )`);
    await q.query(`CREATE INDEX audit_log_targets ON audit_log USING gin (target_ids)`);
    await q.query(`CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
  }
}
