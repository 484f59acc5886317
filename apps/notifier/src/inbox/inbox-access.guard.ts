import { ForbiddenException, Inject, Injectable, NotFoundException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { PRINCIPAL_CHECK, TOKEN_SERVICE, type PrincipalCheck, type TokenService } from '#libs/auth';
import { CONFIG } from '#libs/config';
import { captureInbox, type NotifierConfig } from '../config.js';

/**
 * Who may read the capture inbox and answer as a phone from it (CAPTURE_INBOX): anyone in local
 * use, admins only where it is turned on in production, nobody where it is off (404, as if absent).
 */
@Injectable()
export class InboxAccessGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: NotifierConfig,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(PRINCIPAL_CHECK) private readonly principals: PrincipalCheck,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const mode = captureInbox(this.config);
    if (mode === 'public') return true;
    if (mode === 'off') throw new NotFoundException('The capture inbox is off here (CAPTURE_INBOX)');
    const header = ctx.switchToHttp().getRequest<Request>().headers.authorization;
    const token = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new UnauthorizedException('The capture inbox needs an admin token here: send "Authorization: Bearer <token>"');
    const verified = await this.tokens.verify(token);
    const principal = 'error' in verified || verified.userId === null ? verified : await this.principals.check(verified);
    if ('error' in principal) throw new UnauthorizedException(`Bearer token rejected: ${principal.error}`);
    if (principal.role !== 'admin') throw new ForbiddenException(`The capture inbox needs the admin role; your token has ${principal.role}`);
    return true;
  }
}
