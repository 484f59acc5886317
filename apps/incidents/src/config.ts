import { z } from 'zod';
import { CommonEnv } from '#libs/config';

export const IncidentsEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3004),
});
export type IncidentsConfig = z.output<typeof IncidentsEnv>;
