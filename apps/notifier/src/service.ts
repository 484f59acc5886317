import { MESSAGING_MIGRATIONS } from '#libs/messaging';
import { AUTH_MIGRATIONS, type ServiceDefinition } from '#libs/platform';
import { NotifierEnv } from './config.js';
import { NotifierInitial1764300000000 } from './migrations/1764300000000-notifier-initial.js';
import { NotifierChannels1764600000000 } from './migrations/1764600000000-notifier-channels.js';
import { NotifierStatusUpdates1764700000000 } from './migrations/1764700000000-notifier-status-updates.js';
import { NotifierVerificationLimits1765000000006 } from './migrations/1765000000006-notifier-verification-limits.js';
import { NotifierModule } from './notifier.module.js';

export const notifierService: ServiceDefinition<typeof NotifierEnv> = {
  name: 'notifier',
  env: NotifierEnv,
  module: (config) => NotifierModule.forConfig(config),
  entities: [],
  migrations: [
    ...MESSAGING_MIGRATIONS,
    ...AUTH_MIGRATIONS,
    NotifierInitial1764300000000,
    NotifierChannels1764600000000,
    NotifierStatusUpdates1764700000000,
    NotifierVerificationLimits1765000000006,
  ],
  consumes: ['pages', 'incidents', 'directory'],
};
