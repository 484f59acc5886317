import { urgencyAt } from './urgency.js';

describe('urgencyAt: support hours on the wall clock of the rule zone', () => {
  const weekdays = {
    type: 'support-hours' as const,
    timeZone: 'America/New_York',
    days: [1, 2, 3, 4, 5],
    start: '09:00',
    end: '17:00',
    during: 'high' as const,
    outside: 'low' as const,
  };

  it('is high inside weekday support hours and low outside, on both sides of a DST change', () => {
    expect(urgencyAt(weekdays, new Date('2024-03-08T09:00:00-05:00'))).toBe('high'); // Friday 09:00 EST
    expect(urgencyAt(weekdays, new Date('2024-03-08T17:00:00-05:00'))).toBe('low'); // Friday 17:00: closed
    expect(urgencyAt(weekdays, new Date('2024-03-09T12:00:00-05:00'))).toBe('low'); // Saturday
    expect(urgencyAt(weekdays, new Date('2024-03-11T09:00:00-04:00'))).toBe('high'); // Monday 09:00 EDT (13:00Z)
    expect(urgencyAt(weekdays, new Date('2024-03-11T08:30:00-04:00'))).toBe('low'); // 12:30Z would be 07:30 EST: still closed
  });

  it('reads a night window as running into the next morning', () => {
    const nights = { ...weekdays, timeZone: 'Asia/Kolkata', days: [5], start: '22:00', end: '06:00' };
    expect(urgencyAt(nights, new Date('2024-03-08T23:00:00+05:30'))).toBe('high'); // Friday 23:00
    expect(urgencyAt(nights, new Date('2024-03-09T05:59:00+05:30'))).toBe('high'); // Saturday 05:59
    expect(urgencyAt(nights, new Date('2024-03-09T06:00:00+05:30'))).toBe('low');
    expect(urgencyAt(nights, new Date('2024-03-09T23:00:00+05:30'))).toBe('low'); // Saturday night is not listed
  });

  it('reads equal start and end as the whole of each listed day', () => {
    const weekends = { ...weekdays, days: [6, 7], start: '00:00', end: '00:00' };
    expect(urgencyAt(weekends, new Date('2024-03-09T23:59:00-05:00'))).toBe('high'); // Saturday
    expect(urgencyAt(weekends, new Date('2024-03-11T00:00:00-04:00'))).toBe('low'); // Monday
  });

  it('treats an unknown time zone as outside support hours', () => {
    expect(urgencyAt({ ...weekdays, timeZone: 'Mars/Olympus' }, new Date('2024-03-08T15:00:00Z'))).toBe('low');
  });

  it('returns a constant urgency as it is', () => {
    expect(urgencyAt({ type: 'constant', urgency: 'low' }, new Date())).toBe('low');
  });
});
