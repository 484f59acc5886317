import type { DataSource } from 'typeorm';
import { parseConfig } from '#libs/config';
import { NotifierEnv } from '../config.js';
import { createProviders } from './providers.js';

const base = {
  PORT: '3003',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/klaxon_notifier',
  KAFKA_BROKERS: '127.0.0.1:9092',
  AUTH_SECRET: 'k7Qp2vX9mL4nR8tY1wE6zA3bC5dF0gHjq',
  AUTH_PUBLIC_KEYS: JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'KwcN-9fIeGMH8yJoNMEJToJFgAz2dZRJJSXGqxjNF48', kid: 'k1' }] }),
  PUBLIC_URL: 'http://localhost:3003',
};
const twilio = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'f00dfeedbeadcafe0123', TWILIO_FROM_NUMBER: '+14155550100' };

describe('providers chosen by name', () => {
  it('uses the real provider where configured, and capture where a channel is named capture', () => {
    const providers = createProviders(parseConfig(NotifierEnv, { ...base, ...twilio, VOICE_PROVIDER: 'capture' }), {} as DataSource);
    expect([providers.sms.name, providers.voice.name, providers.email.name]).toEqual(['twilio', 'capture', 'capture']);
  });

  it('refuses to start when a named provider has no settings, or capture is named with the inbox off', () => {
    expect(() => parseConfig(NotifierEnv, { ...base, SMS_PROVIDER: 'twilio' })).toThrow(
      'SMS_PROVIDER is invalid: is twilio, but its settings are missing (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)',
    );
    expect(() => parseConfig(NotifierEnv, { ...base, EMAIL_PROVIDER: 'smtp' })).toThrow(
      'EMAIL_PROVIDER is invalid: is smtp, but its settings are missing (SMTP_URL)',
    );
    expect(() => parseConfig(NotifierEnv, { ...base, ...twilio, CAPTURE_INBOX: 'off', SMS_PROVIDER: 'capture' })).toThrow(
      'SMS_PROVIDER is invalid: is capture, but the capture inbox is off: set CAPTURE_INBOX=admin',
    );
  });
});
