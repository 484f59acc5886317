import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { Principal } from '#libs/auth';
import { LOGGER } from '#libs/platform';
import { UsersService } from './users.service.js';

/** Records when each API token was last used against oncall (shown in the token list; at most once a minute per token). */
@Injectable()
export class TokenUseInterceptor implements NestInterceptor {
  constructor(
    private readonly users: UsersService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = ctx.getType() === 'http' ? ctx.switchToHttp().getRequest<Request & { principal?: Principal }>().principal : undefined;
    if (principal?.userId) {
      this.users.noteTokenUsed(principal.tokenId).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not note a token use'));
    }
    return next.handle();
  }
}
