import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { roleAtLeast, TokenService, type Principal, type Role } from './tokens.js';

const PUBLIC = 'klaxon:public';
const ROLE = 'klaxon:role';

/** Marks a route that authenticates in its own way (integration keys, signatures) or not at all (health). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);

/** The least role a route needs. Without it: viewer for reads, admin for writes. */
export const Roles = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ROLE, role);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<Request & { principal: Principal }>().principal;
});

export const TOKEN_SERVICE = Symbol('KLAXON_TOKEN_SERVICE');

/**
 * What a valid signature cannot tell: whether the token was revoked, and what its user may do now
 * (deleted, or demoted since it was issued). Each service answers from its own copy of the
 * directory, with no call to another service.
 */
export interface PrincipalCheck {
  check(principal: Principal): Promise<Principal | { error: string }>;
}
export const PRINCIPAL_CHECK = Symbol('KLAXON_PRINCIPAL_CHECK');

/** Global guard: every HTTP route needs a bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(PRINCIPAL_CHECK) private readonly principals: PrincipalCheck,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = req.headers.authorization;
    if (!header) throw new UnauthorizedException('Missing bearer token: send "Authorization: Bearer <token>"');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization header must be "Bearer <token>"');
    const verified = await this.tokens.verify(match[1]!);
    const result = 'error' in verified || verified.userId === null ? verified : await this.principals.check(verified);
    if ('error' in result) throw new UnauthorizedException(`Bearer token rejected: ${result.error}`);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (result.readOnly && !reading) throw new ForbiddenException('This token is read-only: it cannot change anything');
    const need = this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? (reading ? 'viewer' : 'admin');
    if (!roleAtLeast(result.role, need)) {
      throw new ForbiddenException(`This needs the ${need} role; your token has ${result.role}`);
    }
    req.principal = result;
    return true;
  }
}
