import { ForbiddenException } from '@nestjs/common';
import type { Principal } from '#libs/auth';

/** People manage their own contact methods and rules; admins manage anyone's. */
export function assertSelfOrAdmin(principal: Principal, userId: string): void {
  if (principal.role === 'admin' || principal.userId === userId) return;
  throw new ForbiddenException('You can only see and change your own contact methods and notification rules (or be an admin)');
}
