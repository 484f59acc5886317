import type { Channel } from '#libs/contracts';

export type { Channel };
/** Every channel, in the order a person's rules usually escalate through them. */
export const CHANNELS = ['push', 'sms', 'voice', 'email'] as const satisfies readonly Channel[];
/** Channels that ring a phone number (and cost money): verified, rate limited, capped per day. */
export const PHONE_CHANNELS: readonly Channel[] = ['sms', 'voice'];
