import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import { Roles } from '#libs/auth';
import { CreateUser, IssueToken, UpdateUser } from './users.dto.js';
import { UsersService, type ApiTokenView } from './users.service.js';
import type { User } from './user.entity.js';

const Id = z.uuid({ message: 'must be a user id (a UUID)' });

@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list(): Promise<User[]> {
    return this.users.list();
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<User> {
    return this.users.get(id);
  }

  @Post()
  create(@Body({ schema: CreateUser }) body: CreateUser): Promise<User> {
    return this.users.create(body);
  }

  @Patch(':id')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: UpdateUser }) body: UpdateUser): Promise<User> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    return this.users.remove(id);
  }

  /** An API token for the user, shown once. Admins issue them. */
  @Post(':id/tokens')
  issueToken(@Param('id', { schema: Id }) id: string, @Body({ schema: IssueToken }) body: z.output<typeof IssueToken>) {
    return this.users.issueToken(id, body);
  }

  @Get(':id/tokens')
  @Roles('admin')
  listTokens(@Param('id', { schema: Id }) id: string): Promise<ApiTokenView[]> {
    return this.users.listTokens(id);
  }

  /** Revokes one of the user's tokens, everywhere. */
  @Delete(':id/tokens/:tokenId')
  @HttpCode(204)
  revokeToken(
    @Param('id', { schema: Id }) id: string,
    @Param('tokenId', { schema: z.uuid({ message: 'must be a token id (a UUID)' }) }) tokenId: string,
  ): Promise<void> {
    return this.users.revokeToken(id, tokenId);
  }
}
