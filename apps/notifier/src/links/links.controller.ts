import { Controller, Get, Header, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { describeResults } from '../replies/reply-text.js';
import { ResponderActionsService } from '../replies/responder-actions.service.js';
import { confirmPage, resultPage } from './link-pages.js';
import { LinksService, type LinkLookup } from './links.service.js';

const Token = z.string().regex(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,100}$/, 'is not a Klaxon link');

const REFUSED: Record<Exclude<LinkLookup['state'], 'valid'>, { status: number; title: string; message: string }> = {
  invalid: { status: 404, title: 'Link not valid', message: 'This link is not a valid Klaxon link. Open the incident in Klaxon instead.' },
  expired: { status: 410, title: 'Link expired', message: 'This link has expired. Open the incident in Klaxon, or answer a newer page.' },
  used: { status: 410, title: 'Link already used', message: 'This link was already used; each link works once.' },
};

/**
 * Acknowledge/resolve links from email and push. Opening one (GET) only shows what it would do
 * and asks to confirm, so mail scanners that follow links act on nothing; the confirmation
 * (POST) acts once. A push app may POST directly with Accept: application/json.
 */
@Controller('l')
@Public()
export class LinksController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly links: LinksService,
    private readonly actions: ResponderActionsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':token')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  async confirm(@Param('token') token: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    const found = Token.safeParse(token).success ? await this.links.lookup(this.db.manager, token, this.clock.now()) : ({ state: 'invalid' } as const);
    if (found.state !== 'valid') {
      const r = REFUSED[found.state];
      res.status(r.status);
      return resultPage(r.title, r.message);
    }
    const incidents: { number: number; title: string }[] = await this.db.query(
      'SELECT number, title FROM incidents WHERE id = ANY($1::uuid[]) ORDER BY number',
      [found.link.incident_ids],
    );
    return confirmPage(found.link.action, incidents, this.links.url(token));
  }

  @Post(':token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async act(@Param('token') token: string, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) res: Response): Promise<string | object> {
    const json = (accept ?? '').includes('application/json');
    const outcome = await this.db.transaction(async (em): Promise<{ refused: (typeof REFUSED)['used'] } | { action: string; message: string }> => {
      const now = this.clock.now();
      const found = Token.safeParse(token).success ? await this.links.lookup(em, token, now, { lock: true }) : ({ state: 'invalid' } as const);
      if (found.state !== 'valid' || !(await this.links.consume(em, found.link.id, now)))
        return { refused: REFUSED[found.state === 'valid' ? 'used' : found.state] };
      const results = await this.actions.act(em, {
        userId: found.link.user_id,
        incidentIds: found.link.incident_ids,
        action: found.link.action,
        source: found.link.channel,
      });
      return { action: found.link.action, message: results.length ? describeResults(found.link.action, results) : 'That incident is no longer known here.' };
    });
    if ('refused' in outcome) {
      res.status(outcome.refused.status);
      if (json) return { statusCode: outcome.refused.status, error: outcome.refused.title, message: outcome.refused.message };
      res.type('html');
      return resultPage(outcome.refused.title, outcome.refused.message);
    }
    if (json) return { action: outcome.action, message: outcome.message };
    res.type('html');
    return resultPage('Done', outcome.message);
  }
}
