import { InboxAccessGuard } from './inbox/inbox-access.guard.js';
import { Module, type DynamicModule } from '@nestjs/common';
import type { NotifierConfig } from './config.js';
import { ContactMethodsController } from './contact-methods/contact-methods.controller.js';
import { ContactMethodsService } from './contact-methods/contact-methods.service.js';
import { DirectoryController } from './directory/directory.controller.js';
import { InboxController } from './inbox/inbox.controller.js';
import { IncidentEventsController } from './incident-state/incident-events.controller.js';
import { LinksController } from './links/links.controller.js';
import { LinksService } from './links/links.service.js';
import { MessageComposer } from './notifications/composer.js';
import { DeliveryService } from './notifications/delivery.service.js';
import { NotificationEventsController } from './notifications/events.controller.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { Retention } from './notifications/retention.js';
import { ProviderRegistry } from './providers/providers.js';
import { RepliesService } from './replies/replies.service.js';
import { ResponderActionsService } from './replies/responder-actions.service.js';
import { TwilioSignatureGuard } from './replies/twilio-signature.guard.js';
import { TwilioWebhooksController } from './replies/twilio-webhooks.controller.js';
import { RulesController } from './rules/rules.controller.js';
import { RulesService } from './rules/rules.service.js';

@Module({})
export class NotifierModule {
  /** Each channel's provider is picked from configuration (ProviderRegistry): a real one where its settings are present, capture otherwise. */
  static forConfig(_config: NotifierConfig): DynamicModule {
    return {
      module: NotifierModule,
      controllers: [
        NotificationEventsController,
        IncidentEventsController,
        DirectoryController,
        ContactMethodsController,
        RulesController,
        TwilioWebhooksController,
        LinksController,
        InboxController,
      ],
      providers: [
        ProviderRegistry,
        NotificationsService,
        DeliveryService,
        MessageComposer,
        LinksService,
        ResponderActionsService,
        RepliesService,
        TwilioSignatureGuard,
        InboxAccessGuard,
        ContactMethodsService,
        RulesService,
        Retention,
      ],
    };
  }
}
