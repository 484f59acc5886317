import { runMain } from '#libs/platform';
import { incidentsService } from './service.js';

await runMain(incidentsService);
