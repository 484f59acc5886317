import { z } from 'zod';
import { CommonEnv } from '#libs/config';

export const IngestEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3001),
});
export type IngestConfig = z.output<typeof IngestEnv>;
