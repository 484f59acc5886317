import { Controller, ForbiddenException, Get, Header, Inject, NotFoundException, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { CurrentPrincipal, Public, Roles, type Principal } from '#libs/auth';
import { CONFIG } from '#libs/config';
import { FEED_TOKEN_PATTERN } from '../common/feed-tokens.js';
import type { OncallConfig } from '../config.js';
import { FeedsService, feedUrl } from './feeds.js';

const File = z.string().max(100);
const UserId = z.uuid({ message: 'must be a user id (a UUID)' });

function tokenOf(file: string): string {
  const token = file.replace(/\.ics$/, '');
  // Same answer as an unknown token: a malformed URL tells nothing about valid ones.
  if (!FEED_TOKEN_PATTERN.test(token)) throw new NotFoundException('Calendar feed for this URL does not exist');
  return token;
}

/** Calendar feeds behind secret URLs (no bearer token: calendar apps cannot send one). */
@Controller()
export class FeedsController {
  constructor(
    private readonly feeds: FeedsService,
    @Inject(CONFIG) private readonly config: OncallConfig,
  ) {}

  @Public()
  @Get('ical/schedules/:file')
  @Header('Content-Type', 'text/calendar; charset=utf-8')
  @Header('Cache-Control', 'private, max-age=300')
  schedule(@Param('file', { schema: File }) file: string): Promise<string> {
    return this.feeds.scheduleFeed(tokenOf(file));
  }

  @Public()
  @Get('ical/users/:file')
  @Header('Content-Type', 'text/calendar; charset=utf-8')
  @Header('Cache-Control', 'private, max-age=300')
  user(@Param('file', { schema: File }) file: string): Promise<string> {
    return this.feeds.userFeed(tokenOf(file));
  }

  /** A new secret feed URL of a user's own shifts (shown once). Users make their own; admins anyone's. */
  @Post('api/v1/users/:id/feed')
  @Roles('responder')
  async rotateUserFeed(@Param('id', { schema: UserId }) id: string, @CurrentPrincipal() who: Principal, @Req() req: Request): Promise<{ url: string }> {
    if (who.role !== 'admin' && who.userId !== id)
      throw new ForbiddenException('You can make a calendar feed for yourself only; ask an admin for someone else');
    return { url: feedUrl(this.config.PUBLIC_URL, req, 'users', await this.feeds.rotateUserToken(id)) };
  }
}
