import { runMain } from '#libs/platform';
import { oncallService } from './service.js';

await runMain(oncallService);
