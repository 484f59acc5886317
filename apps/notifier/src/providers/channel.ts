export const CHANNELS = ['push', 'sms', 'voice', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];
/** Channels that ring a phone number (and cost money): verified, rate limited, capped per day. */
export const PHONE_CHANNELS: readonly Channel[] = ['sms', 'voice'];
