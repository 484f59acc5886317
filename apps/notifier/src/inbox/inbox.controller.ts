import { Controller, Get, Header, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { escapeHtml } from '../notifications/content.js';

interface InboxMessage {
  id: string;
  notification_id: string;
  channel: string;
  destination: string;
  subject: string | null;
  body: string;
  created_at: Date;
}

const InboxQuery = z.strictObject({
  to: z.string().max(320).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * The capture inbox: what Klaxon would have sent, readable by a person at /inbox and by tests at
 * /api/v1/inbox. Only holds anything in capture mode (no provider configured), which is for local
 * use; it is public so a new user sees their first page without a token.
 */
@Controller()
@Public()
export class InboxController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get('api/v1/inbox')
  list(@Query({ schema: InboxQuery }) q: z.output<typeof InboxQuery>): Promise<InboxMessage[]> {
    return this.query(q);
  }

  @Get('inbox')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(@Query({ schema: InboxQuery }) q: z.output<typeof InboxQuery>): Promise<string> {
    const messages = await this.query(q);
    const rows = messages
      .map(
        (m) => `<article><header><b>${escapeHtml(m.subject ?? m.channel)}</b><br><small>${m.channel} to ${escapeHtml(m.destination)} · ${m.created_at.toISOString()}</small></header><pre>${escapeHtml(m.body)}</pre></article>`,
      )
      .join('\n');
    return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="5"><title>Klaxon inbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem}article{border:1px solid #ccc;border-radius:6px;padding:.75rem;margin:.75rem 0}pre{white-space:pre-wrap;font-family:inherit}</style></head>
<body><h1>Klaxon inbox</h1><p>Messages Klaxon would have sent (capture mode). Refreshes every 5 seconds.</p>${rows || '<p><i>Nothing yet. Trigger an alert.</i></p>'}</body></html>`;
  }

  private query(q: z.output<typeof InboxQuery>): Promise<InboxMessage[]> {
    return this.db.query(
      `SELECT id, notification_id, channel, destination, subject, body, created_at FROM inbox_messages
       WHERE ($1::text IS NULL OR destination = $1) ORDER BY id DESC LIMIT $2`,
      [q.to ?? null, q.limit],
    );
  }
}
