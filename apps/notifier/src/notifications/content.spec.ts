import { maskContacts, maskDestination, pageSms, pageVoiceScript, type PageItem } from './content.js';

const item = (n: number, service = 'Checkout API', title = `Disk full on db${n}`): PageItem => ({
  incidentId: `i${n}`,
  number: n,
  title,
  serviceName: service,
  urgency: 'high',
  step: 0,
  loop: 0,
  reassigned: false,
});

describe('message content', () => {
  it('an SMS page names the incident and its reply code, in one segment', () => {
    const sms = pageSms([item(12)], 1);
    expect(sms).toBe('Klaxon #12 Checkout API: Disk full on db12 Reply 1a to ack, 1c to resolve.');
    const long = pageSms([item(12, 'Checkout API', 'x'.repeat(400))], 1);
    expect(long.length).toBeLessThanOrEqual(160);
    expect(long).toContain('Reply 1a to ack');
  });

  it('a bundle says how many incidents and how to acknowledge them all', () => {
    expect(pageSms([item(12), item(13), item(14)], 100)).toBe(
      'Klaxon: 3 incidents on Checkout API (#12, #13, #14) — reply 100a to acknowledge all, 100c to resolve all.',
    );
    expect(pageSms([item(1, 'Checkout API'), item(2, 'Payments')], 101)).toContain('2 incidents on Checkout API and Payments');
  });

  it('a call reads the incident and the keys', () => {
    expect(pageVoiceScript([item(7)])).toBe(
      'This is Klaxon. Incident 7 on Checkout API: Disk full on db7. Press 4 to acknowledge, 6 to resolve, 5 to escalate, or 1 to hear this again.',
    );
    expect(pageVoiceScript([item(7), item(8)])).toContain('Press 4 to acknowledge all');
  });

  it('masks destinations for events and logs', () => {
    expect(maskDestination('dana@example.com')).toBe('d***@example.com');
    expect(maskDestination('+14155552671')).toBe('***2671');
    expect(maskContacts("Twilio 400 (error 21211): The 'To' number +1 415 555 2671 is not a valid phone number.")).toBe(
      "Twilio 400 (error 21211): The 'To' number ***2671 is not a valid phone number.",
    );
    expect(maskContacts('550 5.1.1 <dana@example.com>: Recipient address rejected')).toBe('550 5.1.1 <d***@example.com>: Recipient address rejected');
  });
});
