import { MESSAGING_MIGRATIONS } from '#libs/messaging';
import { AUTH_MIGRATIONS, type ServiceDefinition } from '#libs/platform';
import { OncallEnv } from './config.js';
import { EscalationPolicy } from './escalation/policy.entity.js';
import { OncallInitial1764300000000 } from './migrations/1764300000000-oncall-initial.js';
import { OncallTeamsSchedules1764400000000 } from './migrations/1764400000000-oncall-teams-schedules.js';
import { OncallAutomaticReviews1765000000000 } from './migrations/1765000000000-oncall-automatic-reviews.js';
import { OncallApiTokens1765000000002 } from './migrations/1765000000002-oncall-api-tokens.js';
import { OncallPolicyTeams1765000000005 } from './migrations/1765000000005-oncall-policy-teams.js';
import { OncallSignIn1765000000007 } from './migrations/1765000000007-oncall-sign-in.js';
import { OncallOidc1765000000008 } from './migrations/1765000000008-oncall-oidc.js';
import { OncallModule } from './oncall.module.js';
import { Service } from './services/service.entity.js';
import { User } from './users/user.entity.js';

export const oncallService: ServiceDefinition<typeof OncallEnv> = {
  name: 'oncall',
  signsTokens: true,
  env: OncallEnv,
  module: () => OncallModule,
  entities: [User, Service, EscalationPolicy],
  migrations: [
    ...MESSAGING_MIGRATIONS,
    ...AUTH_MIGRATIONS,
    OncallInitial1764300000000,
    OncallTeamsSchedules1764400000000,
    OncallAutomaticReviews1765000000000,
    OncallApiTokens1765000000002,
    OncallPolicyTeams1765000000005,
    OncallSignIn1765000000007,
    OncallOidc1765000000008,
  ],
  // incidents: escalation; directory: maintenance windows from alert-ingest.
  consumes: ['incidents', 'directory'],
};
