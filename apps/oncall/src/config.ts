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
  /** Single sign-on: the OpenID Connect identity provider (https://login.example.com/realms/ops). Unset: passwords and tokens only. */
  OIDC_ISSUER_URL: z.url({ message: 'must be the identity provider’s issuer URL' }).optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Lets the issuer be plain http (a provider on this machine, in tests). Refused with NODE_ENV=production. */
  OIDC_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .default(false),
}).superRefine((c, ctx) => {
  if (c.OIDC_ISSUER_URL && (!c.OIDC_CLIENT_ID || !c.OIDC_CLIENT_SECRET))
    ctx.addIssue({ code: 'custom', path: [c.OIDC_CLIENT_ID ? 'OIDC_CLIENT_SECRET' : 'OIDC_CLIENT_ID'], message: 'is needed with OIDC_ISSUER_URL' });
  if (c.OIDC_ALLOW_HTTP && c.NODE_ENV === 'production')
    ctx.addIssue({ code: 'custom', path: ['OIDC_ALLOW_HTTP'], message: 'is refused with NODE_ENV=production: the identity provider must be https' });
});
export type OncallConfig = z.output<typeof OncallEnv>;
