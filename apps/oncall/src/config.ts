import { z } from 'zod';
import { CommonEnv } from '#libs/config';

export const OncallEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3002),
  /**
   * Where calendar feed URLs point (https://oncall.example.com). Unset: the address the request
   * came in on, which is right for local use but should be pinned behind a proxy.
   */
  PUBLIC_URL: z
    .url({ message: 'must be a URL such as https://oncall.example.com' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
});
export type OncallConfig = z.output<typeof OncallEnv>;
