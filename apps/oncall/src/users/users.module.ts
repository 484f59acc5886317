import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TeamsModule } from '../teams/teams.module.js';
import { TokenUseInterceptor } from './token-use.interceptor.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { SignInController, SignInService } from './sign-in.js';
import { OidcController, OidcService } from './oidc.js';

@Module({
  imports: [TeamsModule],
  controllers: [UsersController, SignInController, OidcController],
  providers: [UsersService, SignInService, OidcService, { provide: APP_INTERCEPTOR, useClass: TokenUseInterceptor }],
})
export class UsersModule {}
