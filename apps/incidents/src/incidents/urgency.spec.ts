import { urgencyAt } from './urgency.js';

const businessHours = {
  type: 'support-hours' as const,
  timeZone: 'Europe/Paris',
  days: [1, 2, 3, 4, 5],
  start: '09:00',
  end: '18:00',
  during: 'high' as const,
  outside: 'low' as const,
};

describe('urgency', () => {
  it('is the constant when the rule is constant', () => {
    expect(urgencyAt({ type: 'constant', urgency: 'low' }, new Date())).toBe('low');
  });

  it('follows support hours in the rule’s time zone', () => {
    // Wednesday 2025-01-15: Paris is UTC+1 in winter.
    expect(urgencyAt(businessHours, new Date('2025-01-15T08:00:00Z'))).toBe('high'); // 09:00 Paris
    expect(urgencyAt(businessHours, new Date('2025-01-15T07:59:00Z'))).toBe('low'); // 08:59 Paris
    expect(urgencyAt(businessHours, new Date('2025-01-15T17:00:00Z'))).toBe('low'); // 18:00 Paris, end excluded
    // Saturday.
    expect(urgencyAt(businessHours, new Date('2025-01-18T10:00:00Z'))).toBe('low');
  });

  it('keeps wall-clock hours across daylight saving time', () => {
    // Summer: Paris is UTC+2, so 09:00 local is 07:00 UTC.
    expect(urgencyAt(businessHours, new Date('2025-07-16T07:00:00Z'))).toBe('high');
    expect(urgencyAt(businessHours, new Date('2025-07-16T16:30:00Z'))).toBe('low'); // 18:30 local
  });

  it('handles windows that run past midnight, belonging to the day they start', () => {
    const night = { ...businessHours, timeZone: 'UTC', days: [5], start: '22:00', end: '06:00' };
    expect(urgencyAt(night, new Date('2025-01-17T23:00:00Z'))).toBe('high'); // Friday 23:00
    expect(urgencyAt(night, new Date('2025-01-18T05:00:00Z'))).toBe('high'); // Saturday 05:00, Friday's night
    expect(urgencyAt(night, new Date('2025-01-18T23:00:00Z'))).toBe('low'); // Saturday night: not a support day
    expect(urgencyAt(night, new Date('2025-01-17T05:00:00Z'))).toBe('low'); // Friday 05:00 belongs to Thursday
  });

  it('treats an unknown time zone as outside support hours', () => {
    expect(urgencyAt({ ...businessHours, timeZone: 'Mars/Olympus' }, new Date('2025-01-15T10:00:00Z'))).toBe('low');
  });
});
