import { z } from 'zod';

/** A maintenance window as the API takes it: at most a year long, ending after it starts. */
export const MaintenanceWindowInput = z
  .strictObject({
    serviceIds: z.array(z.uuid()).min(1, 'name at least one service').max(100),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    description: z.string().trim().max(1000).default(''),
  })
  .refine((w) => Date.parse(w.endsAt) > Date.parse(w.startsAt), { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((w) => Date.parse(w.endsAt) - Date.parse(w.startsAt) <= 366 * 24 * 3600 * 1000, { message: 'a window lasts at most a year', path: ['endsAt'] });
export type MaintenanceWindowInput = z.output<typeof MaintenanceWindowInput>;

/** Whether a window is active at an instant: [startsAt, endsAt). */
export function isActive(w: { startsAt: Date; endsAt: Date }, at: Date): boolean {
  return w.startsAt.getTime() <= at.getTime() && at.getTime() < w.endsAt.getTime();
}
