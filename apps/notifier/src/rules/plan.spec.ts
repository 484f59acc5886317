import { planNotifications, type ContactMethodInfo } from './plan.js';

const push1: ContactMethodInfo = { id: 'p1', type: 'push', value: 'token-1', verified: true };
const push2: ContactMethodInfo = { id: 'p2', type: 'push', value: 'token-2', verified: true };
const sms: ContactMethodInfo = { id: 's', type: 'sms', value: '+14155552671', verified: true };
const voice: ContactMethodInfo = { id: 'v', type: 'voice', value: '+14155552671', verified: true };
const unverified: ContactMethodInfo = { id: 'u', type: 'sms', value: '+14155550000', verified: false };

describe('notification rules → the notifications a page sends', () => {
  it('follows the rules of the urgency, in order of delay', () => {
    const plan = planNotifications({
      urgency: 'high',
      email: 'dana@example.com',
      methods: [push1, sms, voice],
      rules: [
        { urgency: 'high', contactMethodId: 'v', delayMinutes: 3 },
        { urgency: 'high', contactMethodId: 's', delayMinutes: 1 },
        { urgency: 'high', contactMethodId: 'p1', delayMinutes: 0 },
        { urgency: 'low', contactMethodId: 's', delayMinutes: 0 },
      ],
    });
    expect(plan.map((p) => [p.channel, p.delayMinutes])).toEqual([
      ['push', 0],
      ['sms', 1],
      ['voice', 3],
    ]);
  });

  it('without rules for the urgency: every push device and the email, at once', () => {
    const plan = planNotifications({
      urgency: 'low',
      email: 'dana@example.com',
      methods: [push1, push2, sms],
      rules: [{ urgency: 'high', contactMethodId: 's', delayMinutes: 0 }],
    });
    expect(plan.map((p) => [p.channel, p.destination, p.delayMinutes])).toEqual([
      ['push', 'token-1', 0],
      ['push', 'token-2', 0],
      ['email', 'dana@example.com', 0],
    ]);
  });

  it('skips unverified numbers, and falls back to the default when nothing is left', () => {
    const plan = planNotifications({
      urgency: 'high',
      email: 'dana@example.com',
      methods: [unverified],
      rules: [{ urgency: 'high', contactMethodId: 'u', delayMinutes: 0 }],
    });
    expect(plan).toEqual([{ channel: 'email', destination: 'dana@example.com', contactMethodId: null, delayMinutes: 0, ruleKey: '0' }]);
  });

  it('keeps two rules on one method at different delays apart', () => {
    const plan = planNotifications({
      urgency: 'high',
      email: 'x@example.com',
      methods: [sms],
      rules: [
        { urgency: 'high', contactMethodId: 's', delayMinutes: 0 },
        { urgency: 'high', contactMethodId: 's', delayMinutes: 5 },
      ],
    });
    expect(plan.map((p) => p.ruleKey)).toEqual(['0', '5']);
  });
});
