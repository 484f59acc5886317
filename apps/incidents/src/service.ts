import { MessagingTables1764200000000 } from '#libs/messaging';
import type { ServiceDefinition } from '#libs/platform';
import { IncidentsEnv } from './config.js';
import { Incident, TimelineEntry } from './incidents/incident.entity.js';
import { IncidentsModule } from './incidents.module.js';
import { IncidentsInitial1764300000000 } from './migrations/1764300000000-incidents-initial.js';

export const incidentsService: ServiceDefinition<typeof IncidentsEnv> = {
  name: 'incidents',
  env: IncidentsEnv,
  module: () => IncidentsModule,
  entities: [Incident, TimelineEntry],
  migrations: [MessagingTables1764200000000, IncidentsInitial1764300000000],
  consumes: ['alerts', 'pages', 'notifications', 'directory'],
};
