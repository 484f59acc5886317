import { z } from 'zod';
import { isValidZone } from '../schedules/domain/wall-clock.js';

/** Field schemas the oncall API shares, each with a message that says what to send. */
export const timeZone = z.string().refine(isValidZone, { message: 'must be an IANA time zone such as Europe/Berlin' });
export const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:mm (00:00 to 23:59)');
export const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset, such as 2024-03-10T09:00:00-05:00' });
