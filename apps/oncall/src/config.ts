import { z } from 'zod';
import { CommonEnv } from '#libs/config';

export const OncallEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3002),
});
export type OncallConfig = z.output<typeof OncallEnv>;
