import { z } from 'zod';
import { CommonEnv, env } from '#libs/config';
import { parseRateLimits } from './notifications/rate-limit.js';

const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      try {
        return parseRateLimits(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const seconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/*
 * Each channel uses its real provider when that provider's settings are present, and the capture
 * inbox otherwise (see docs/notifier.md).
 */
export const NotifierEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3003),
  /** Keys acknowledgement links and verification codes; at least 32 characters. */
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters (it keys links and verification codes)'),
  /** Where links in messages and Twilio's callbacks point (acknowledge pages, webhooks, the inbox). */
  PUBLIC_URL: z
    .url({ message: 'must be a URL such as https://klaxon.example.com' })
    .default('http://localhost:3003')
    .transform((u) => u.replace(/\/+$/, '')),

  /** Where people open an incident (your console or dashboard), e.g. https://klaxon.example.com/incidents/{id}; {id} and {number} are filled in. Unset: no such link. */
  INCIDENT_URL_TEMPLATE: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be a URL such as https://klaxon.example.com/incidents/{id}')
    .optional(),

  // ---- email (nodemailer over SMTP) ----
  /** smtp://user:pass@host:port or smtps://…; unset means capture mode: email goes to the local inbox. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  EMAIL_FROM: z.string().default('Klaxon <klaxon@localhost>'),

  // ---- SMS and voice (Twilio) ----
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC followed by 32 hex digits)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be the account auth token (it also verifies X-Twilio-Signature)').optional(),
  /** The number messages and calls come from, E.164 (+15551234567). */
  TWILIO_FROM_NUMBER: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15551234567')
    .optional(),
  /** Twilio's API base URL: a regional edge, a proxy, or a local test server. */
  TWILIO_API_URL: z.url({ message: 'must be a URL such as https://api.twilio.com' }).default('https://api.twilio.com'),

  // ---- push (Firebase Cloud Messaging through firebase-admin) ----
  /** A service account key: the JSON itself or the path of its file. Unset means capture mode for push. */
  FCM_SERVICE_ACCOUNT: z.string().min(2).optional(),
  /** Sends firebase-admin's HTTPS requests (token and messages) to this host instead: a proxy or a local test server. */
  FCM_API_URL: z.url({ message: 'must be a URL such as http://127.0.0.1:9099' }).optional(),
  /** iOS "critical" alerts for high-urgency pages (needs Apple's entitlement); otherwise "time-sensitive". */
  PUSH_IOS_CRITICAL: env.bool.default(false),

  // ---- sending ----
  /** How long a send may take before its outcome counts as unknown and is reconciled (seconds). */
  SEND_DEADLINE_SECONDS: seconds(5, 600, 30),
  /** Provider calls per message before it counts as failed and the next contact method takes over. */
  SEND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  /** First retry delay after a transient provider error; each further retry waits three times longer. */
  SEND_RETRY_BASE_SECONDS: seconds(1, 600, 10),
  /** Consecutive transient failures that open a provider's circuit, and how long it stays open. */
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  CIRCUIT_OPEN_SECONDS: seconds(1, 3600, 30),
  /** Calls per page when the phone is busy or not answered, and the wait between them. */
  VOICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(3),
  VOICE_RETRY_SECONDS: seconds(10, 3600, 60),
  /** Ask Twilio whether a person or a machine answered (noted on the notification). */
  VOICE_MACHINE_DETECTION: env.bool.default(true),

  // ---- rate limits ("<count>/<window>" pairs, comma separated, or "off") ----
  RATE_LIMIT_SMS: rateLimit('1/1m,5/15m'),
  RATE_LIMIT_VOICE: rateLimit('1/1m,3/15m'),
  RATE_LIMIT_PUSH: rateLimit('6/1m'),
  RATE_LIMIT_EMAIL: rateLimit('6/1m'),
  /** Status updates ("#12 acknowledged by Sam") per contact method: counted apart from pages, so they never hold one back. */
  RATE_LIMIT_STATUS: rateLimit('1/1m'),
  /** SMS plus calls to one user in 24 hours; beyond it pages fail over to push and email. */
  USER_DAILY_PHONE_LIMIT: z.coerce.number().int().min(1).max(10000).default(200),

  /** How long finished notifications (and resolved incidents' copies) are kept. */
  NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),

  // ---- links and codes ----
  /** How long acknowledge/resolve links in email and push stay valid (minutes). */
  LINK_TTL_MINUTES: z.coerce.number().int().min(1).max(10080).default(720),
  VERIFICATION_TTL_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),

  /**
   * The capture inbox (messages of channels without a provider, with SMS replies and keypresses as
   * from the phone): `public` (the default outside production: the local demo), `admin` (an admin
   * token), or `off` (the default with NODE_ENV=production; channels without a provider then fail,
   * so a page moves on to the person's next contact method instead of landing where nobody reads).
   */
  CAPTURE_INBOX: z.enum(['off', 'admin', 'public']).optional(),

  /**
   * Which provider each channel uses, by name. Unset: the real one where its settings are present
   * (Twilio, FCM, SMTP), otherwise the capture inbox. Named, a missing setting stops the service
   * at boot instead of quietly capturing; `capture` keeps a staging stack off real phones.
   */
  SMS_PROVIDER: z.enum(['twilio', 'capture']).optional(),
  VOICE_PROVIDER: z.enum(['twilio', 'capture']).optional(),
  PUSH_PROVIDER: z.enum(['fcm', 'capture']).optional(),
  EMAIL_PROVIDER: z.enum(['smtp', 'capture']).optional(),
})
  .refine((c) => !(c.NODE_ENV === 'production' && c.CAPTURE_INBOX === 'public'), {
    message: 'must be off or admin with NODE_ENV=production: the inbox shows live acknowledge links and codes, and answers as any phone',
    path: ['CAPTURE_INBOX'],
  })
  .superRefine((c, ctx) => {
    const needs: [keyof typeof c, string, boolean][] = [
      ['SMS_PROVIDER', 'twilio', !!c.TWILIO_ACCOUNT_SID],
      ['VOICE_PROVIDER', 'twilio', !!c.TWILIO_ACCOUNT_SID],
      ['PUSH_PROVIDER', 'fcm', !!c.FCM_SERVICE_ACCOUNT],
      ['EMAIL_PROVIDER', 'smtp', !!c.SMTP_URL],
    ];
    for (const [name, real, configured] of needs) {
      if (c[name] === real && !configured)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `is ${real}, but its settings are missing (${real === 'twilio' ? 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER' : real === 'fcm' ? 'FCM_SERVICE_ACCOUNT' : 'SMTP_URL'})`,
        });
      if (c[name] === 'capture' && captureInbox(c) === 'off')
        ctx.addIssue({ code: 'custom', path: [name], message: 'is capture, but the capture inbox is off: set CAPTURE_INBOX=admin' });
    }
  })
  .refine(
    (c) =>
      [c.TWILIO_ACCOUNT_SID, c.TWILIO_AUTH_TOKEN, c.TWILIO_FROM_NUMBER].every((v) => v === undefined) ||
      [c.TWILIO_ACCOUNT_SID, c.TWILIO_AUTH_TOKEN, c.TWILIO_FROM_NUMBER].every((v) => v !== undefined),
    {
      message: 'set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER, or none (capture mode)',
      path: ['TWILIO_ACCOUNT_SID'],
    },
  );
export type NotifierConfig = z.output<typeof NotifierEnv>;

/** Who may use the capture inbox here (see CAPTURE_INBOX). */
export function captureInbox(c: Pick<NotifierConfig, 'NODE_ENV' | 'CAPTURE_INBOX'>): 'off' | 'admin' | 'public' {
  return c.CAPTURE_INBOX ?? (c.NODE_ENV === 'production' ? 'off' : 'public');
}
