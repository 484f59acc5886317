import { runMain } from '#libs/platform';
import { notifierService } from './service.js';

await runMain(notifierService);
