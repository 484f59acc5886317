import { runMain } from '#libs/platform';
import { ingestService } from './service.js';

await runMain(ingestService);
