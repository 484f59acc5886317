import { ForbiddenException, Inject, Injectable, NotFoundException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import twilio from 'twilio';
import type { Logger } from 'pino';
import { CONFIG } from '#libs/config';
import { LOGGER } from '#libs/platform';
import type { NotifierConfig } from '../config.js';

/**
 * Every request on Twilio's webhooks must carry X-Twilio-Signature: Twilio's HMAC-SHA1, keyed by
 * the account's auth token, over the URL Twilio called (PUBLIC_URL + path and query) and the form
 * fields. Anything unsigned or wrongly signed is refused before it is read.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!this.config.TWILIO_AUTH_TOKEN) {
      throw new NotFoundException(
        'Twilio is not configured here (SMS and calls go to the capture inbox); set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER',
      );
    }
    const signature = req.headers['x-twilio-signature'];
    if (typeof signature !== 'string' || signature === '') throw new ForbiddenException('X-Twilio-Signature is missing: only Twilio may call this URL');
    const url = `${this.config.PUBLIC_URL}${req.originalUrl}`;
    const params = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    if (!twilio.validateRequest(this.config.TWILIO_AUTH_TOKEN, signature, url, params)) {
      this.logger.warn({ path: req.path }, 'Twilio webhook with a wrong signature refused');
      throw new ForbiddenException(`X-Twilio-Signature does not match this request; check that PUBLIC_URL (${this.config.PUBLIC_URL}) is the URL Twilio calls`);
    }
    return true;
  }
}
