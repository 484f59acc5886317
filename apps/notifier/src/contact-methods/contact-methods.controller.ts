import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { UserId } from '../directory/users.js';
import { assertSelfOrAdmin } from './access.js';
import { ContactMethodsService, CreateContactMethod, UpdateContactMethod, type ContactMethod } from './contact-methods.service.js';

const Id = z.uuid({ message: 'must be a contact method id (a UUID)' });
const Verify = z.strictObject({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'must be the 6-digit code that was sent'),
});

/** A user's contact methods: phone numbers (SMS, voice) verified by a code, email addresses, push devices. */
@Controller('api/v1/users/:userId/contact-methods')
@Roles('responder')
export class ContactMethodsController {
  constructor(private readonly methods: ContactMethodsService) {}

  @Get()
  @Roles('viewer')
  list(@Param('userId', { schema: UserId }) userId: string, @CurrentPrincipal() p: Principal): Promise<ContactMethod[]> {
    assertSelfOrAdmin(p, userId);
    return this.methods.list(userId);
  }

  /** Adds a contact method; a phone number is sent a 6-digit code at once. */
  @Post()
  create(
    @Param('userId', { schema: UserId }) userId: string,
    @Body({ schema: CreateContactMethod }) body: CreateContactMethod,
    @CurrentPrincipal() p: Principal,
  ): Promise<ContactMethod> {
    assertSelfOrAdmin(p, userId);
    return this.methods.create(userId, body);
  }

  /** Renames it, or turns status updates on or off. */
  @Patch(':id')
  update(
    @Param('userId', { schema: UserId }) userId: string,
    @Param('id', { schema: Id }) id: string,
    @Body({ schema: UpdateContactMethod }) body: UpdateContactMethod,
    @CurrentPrincipal() p: Principal,
  ): Promise<ContactMethod> {
    assertSelfOrAdmin(p, userId);
    return this.methods.update(userId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('userId', { schema: UserId }) userId: string, @Param('id', { schema: Id }) id: string, @CurrentPrincipal() p: Principal): Promise<void> {
    assertSelfOrAdmin(p, userId);
    return this.methods.remove(userId, id);
  }

  /** Sends a new verification code. */
  @Post(':id/verification')
  @HttpCode(202)
  resend(
    @Param('userId', { schema: UserId }) userId: string,
    @Param('id', { schema: Id }) id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<ContactMethod> {
    assertSelfOrAdmin(p, userId);
    return this.methods.resendCode(userId, id);
  }

  @Post(':id/verify')
  @HttpCode(200)
  verify(
    @Param('userId', { schema: UserId }) userId: string,
    @Param('id', { schema: Id }) id: string,
    @Body({ schema: Verify }) body: z.output<typeof Verify>,
    @CurrentPrincipal() p: Principal,
  ): Promise<ContactMethod> {
    assertSelfOrAdmin(p, userId);
    return this.methods.verify(userId, id, body.code);
  }
}
