import { toFcmMessage } from './fcm-push.provider.js';
import type { PushMessage } from './provider.js';

const push = (over: Partial<PushMessage> = {}): PushMessage => ({
  notificationId: 'n1',
  token: 'device-token',
  title: '#12 Checkout API',
  body: 'Disk full',
  data: { incidentId: 'i-12', acknowledgeToken: 't' },
  urgency: 'high',
  critical: false,
  ...over,
});

describe('FCM message for a page', () => {
  it('rings now: high priority on Android, time-sensitive on iOS, the incident and action tokens in data', () => {
    const m = toFcmMessage(push());
    expect(m.android).toMatchObject({ priority: 'high', notification: { channelId: 'klaxon-high-urgency', priority: 'max' } });
    expect(m.apns?.headers).toMatchObject({ 'apns-priority': '10', 'apns-push-type': 'alert' });
    expect(m.apns?.payload?.aps).toMatchObject({ 'interruption-level': 'time-sensitive', sound: 'default' });
    expect(m.data).toEqual({ incidentId: 'i-12', acknowledgeToken: 't' });
  });

  it('uses iOS critical alerts for high urgency when configured, and stays quiet for low urgency', () => {
    expect(toFcmMessage(push({ critical: true })).apns?.payload?.aps).toMatchObject({
      'interruption-level': 'critical',
      sound: { critical: true, name: 'default', volume: 1 },
    });
    const low = toFcmMessage(push({ urgency: 'low', critical: true }));
    expect(low.android?.priority).toBe('normal');
    expect(low.apns?.payload?.aps).toMatchObject({ 'interruption-level': 'active', sound: 'default' });
  });
});
