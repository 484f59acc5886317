import { Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { NotifierConfig } from './config.js';
import { DirectoryController } from './directory/directory.controller.js';
import { InboxController } from './inbox/inbox.controller.js';
import { NotificationEventsController } from './notifications/events.controller.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { CaptureProvider } from './providers/capture.provider.js';
import { EMAIL_PROVIDER } from './providers/provider.js';
import { SmtpEmailProvider } from './providers/smtp-email.provider.js';

@Module({})
export class NotifierModule {
  /** Providers are picked from configuration: a real one where credentials are set, capture otherwise. */
  static forConfig(config: NotifierConfig): DynamicModule {
    return {
      module: NotifierModule,
      controllers: [NotificationEventsController, DirectoryController, InboxController],
      providers: [
        NotificationsService,
        {
          provide: EMAIL_PROVIDER,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => (config.SMTP_URL ? new SmtpEmailProvider(config.SMTP_URL, config.EMAIL_FROM) : new CaptureProvider(db)),
        },
      ],
    };
  }
}
