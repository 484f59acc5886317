import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthGuard, PRINCIPAL_CHECK, TeamScopeGuard, TOKEN_SERVICE } from '#libs/auth';
import { CLOCK } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { DailyJobs, Outbox, TimerRunner, Timers } from '#libs/messaging';
import { HealthController, MetricsController, TestClockController } from './health.controller.js';
import { KlaxonExceptionFilter, validationPipe } from './http.js';
import { AuditController, AuditInterceptor } from './audit.js';
import { DirectoryPrincipals, DirectoryPrincipalsController } from './principals.js';
import type { Runtime } from './runtime.js';
import { KAFKA, LOGGER, METRICS, PRODUCER, RUNTIME } from './tokens.js';

/**
 * What every service module can inject: its typed config, the clock, the outbox, timers, daily jobs, metrics
 * and logger, and TypeORM repositories over its own database. Also mounts health, metrics, the
 * bearer-token guard, validation and the exception filter.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(runtime: Runtime): DynamicModule {
    const providers: Provider[] = [
      { provide: RUNTIME, useValue: runtime },
      { provide: CONFIG, useValue: runtime.config },
      { provide: CLOCK, useValue: runtime.clock },
      { provide: LOGGER, useValue: runtime.logger },
      { provide: METRICS, useValue: runtime.metrics },
      { provide: KAFKA, useValue: runtime.kafka },
      { provide: PRODUCER, useValue: runtime.producer },
      { provide: TOKEN_SERVICE, useValue: runtime.tokens },
      { provide: PRINCIPAL_CHECK, useValue: new DirectoryPrincipals(runtime.dataSource) },
      { provide: Outbox, useValue: runtime.outbox },
      { provide: Timers, useValue: runtime.timers },
      { provide: TimerRunner, useValue: runtime.timerRunner },
      { provide: DailyJobs, useValue: runtime.daily },
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_GUARD, useClass: TeamScopeGuard },
      { provide: APP_FILTER, useFactory: () => new KlaxonExceptionFilter(runtime.logger) },
      { provide: APP_PIPE, useFactory: validationPipe },
      { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
    ];
    return {
      module: PlatformModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => runtime.dataSource.options,
          dataSourceFactory: async () => runtime.dataSource,
        }),
      ],
      controllers: [
        HealthController,
        MetricsController,
        DirectoryPrincipalsController,
        AuditController,
        ...(runtime.config.TEST_CLOCK ? [TestClockController] : []),
      ],
      providers,
      exports: [
        ...providers.filter((p) => 'provide' in p && typeof p.provide !== 'string').map((p) => (p as { provide: unknown }).provide as symbol),
        TypeOrmModule,
      ],
    };
  }
}
