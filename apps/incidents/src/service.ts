import { MESSAGING_MIGRATIONS } from '#libs/messaging';
import { AUTH_MIGRATIONS, type ServiceDefinition } from '#libs/platform';
import { AppModule } from './app.module.js';
import { IncidentsEnv } from './config.js';
import { Incident, TimelineEntry } from './incidents/incident.entity.js';
import { IncidentsInitial1764300000000 } from './migrations/1764300000000-incidents-initial.js';
import { IncidentsLifecycle1764400000000 } from './migrations/1764400000000-incidents-lifecycle.js';
import { IncidentsServiceSettings1765000000000 } from './migrations/1765000000000-incidents-service-settings.js';

export const incidentsService: ServiceDefinition<typeof IncidentsEnv> = {
  name: 'incidents',
  env: IncidentsEnv,
  module: () => AppModule,
  entities: [Incident, TimelineEntry],
  migrations: [
    ...MESSAGING_MIGRATIONS,
    ...AUTH_MIGRATIONS,
    IncidentsInitial1764300000000,
    IncidentsLifecycle1764400000000,
    IncidentsServiceSettings1765000000000,
  ],
  consumes: ['alerts', 'pages', 'notifications', 'directory'],
};
