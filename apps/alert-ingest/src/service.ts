import { MESSAGING_MIGRATIONS } from '#libs/messaging';
import { AUTH_MIGRATIONS, type ServiceDefinition } from '#libs/platform';
import { checkIngestConfig, IngestEnv } from './config.js';
import { IngestModule } from './ingest.module.js';
import { intakeFastRoutes } from './fast-routes.js';
import { Integration } from './integrations/integration.entity.js';
import { IngestInitial1764300000000 } from './migrations/1764300000000-ingest-initial.js';
import { IngestSources1764400000000 } from './migrations/1764400000000-ingest-sources.js';
import { IngestStateRule1765000000000 } from './migrations/1765000000000-ingest-state-rule.js';

export const ingestService: ServiceDefinition<typeof IngestEnv> = {
  name: 'alert-ingest',
  env: IngestEnv,
  module: (config) => {
    checkIngestConfig(config);
    return IngestModule;
  },
  entities: [Integration],
  migrations: [...MESSAGING_MIGRATIONS, ...AUTH_MIGRATIONS, IngestInitial1764300000000, IngestSources1764400000000, IngestStateRule1765000000000],
  // incidents: an incident resolved anywhere resolves its alerts (the state rule); directory: the services.
  consumes: ['incidents', 'directory'],
  fastRoutes: intakeFastRoutes,
};
