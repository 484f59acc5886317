import { z } from 'zod';
import { CommonEnv } from '#libs/config';

export const NotifierEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3003),
  /** Where links in messages point (acknowledge pages, the inbox). */
  PUBLIC_URL: z.url({ message: 'must be a URL such as https://klaxon.example.com' }).default('http://localhost:3003'),
  /** smtp://user:pass@host:port or smtps://…; unset means capture mode: email goes to the local inbox. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  EMAIL_FROM: z.string().default('Klaxon <klaxon@localhost>'),
  /** How long a send may take before its outcome counts as unknown and is reconciled (seconds). */
  SEND_DEADLINE_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
});
export type NotifierConfig = z.output<typeof NotifierEnv>;
