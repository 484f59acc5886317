import { Api, SmtpSink, TestWorld, eventually } from '#libs/testing';

/**
 * The walking skeleton through four separate processes over real Kafka and PostgreSQL:
 * a PagerDuty Events API v2 trigger → alert-ingest → incidents opens an incident → oncall pages
 * the first step's user → notifier emails them through a real SMTP server.
 */
describe('walking skeleton: alert to email page across the four services', () => {
  const world = new TestWorld();
  const smtp = new SmtpSink();
  let ingest: Api;
  let oncall: Api;
  let incidents: Api;
  let routingKey: string;
  const email = 'dana@example.com';

  beforeAll(async () => {
    await smtp.start();
    const [i, o, , inc] = await Promise.all([
      world.spawn('alert-ingest'),
      world.spawn('oncall'),
      world.spawn('notifier', { SMTP_URL: smtp.url }),
      world.spawn('incidents'),
    ]);
    ingest = i.api;
    oncall = o.api;
    incidents = inc.api;

    const user = await oncall.post('/api/v1/users', { name: 'Dana', email });
    const policy = await oncall.post('/api/v1/escalation-policies', {
      name: 'Checkout on-call',
      steps: [{ delayMinutes: 10, targets: [{ type: 'user', id: user.body.id }] }],
    });
    const service = await oncall.post('/api/v1/services', { name: 'Checkout API', escalationPolicyId: policy.body.id });
    const integration = await ingest.post('/api/v1/integrations', { serviceId: service.body.id, type: 'events-api-v2', name: 'Prometheus' });
    expect(integration.status).toBe(201);
    routingKey = integration.body.key;
  });

  afterAll(async () => {
    await world.close();
    await smtp.stop();
  });

  it('emails the on-call user when a PagerDuty trigger arrives, and only once', async () => {
    const sender = ingest.as(null);
    const tap = await world.tap('alerts', 'incidents', 'pages');
    const res = await sender.post(
      '/v2/enqueue',
      {
        routing_key: routingKey,
        event_action: 'trigger',
        dedup_key: 'db1-disk',
        payload: { summary: 'Disk full on db1', source: 'db1', severity: 'critical' },
      },
      { 'x-correlation-id': 'trace-db1-disk' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('x-correlation-id')).toBe('trace-db1-disk');
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'db1-disk' });

    const mail = await eventually(async () => smtp.to(email)[0], { what: 'the page email' });
    expect(mail.subject).toBe('[Klaxon] #1 Checkout API: Disk full on db1');
    expect(mail.text).toContain('Incident #1 on Checkout API needs you.');

    const list = await incidents.get('/api/v1/incidents');
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ number: 1, title: 'Disk full on db1', status: 'triggered', priority: 'P1' });

    // One correlation id from the sender's request through every service's events.
    for (const type of ['alert.triggered', 'incident.triggered', 'page.requested']) {
      const [event] = tap.ofType(type);
      expect(event?.json?.correlationId).toBe('trace-db1-disk');
      expect(event?.headers['correlation-id']).toBe('trace-db1-disk');
    }

    // The same alert again is deduplicated: accepted, counted on the incident, no new incident, no second page.
    const again = await sender.post('/v2/enqueue', {
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: 'db1-disk',
      payload: { summary: 'Disk full on db1', source: 'db1', severity: 'critical' },
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'db1-disk' });
    // Once incidents has counted the repeat on the open incident, a second incident would already exist.
    const counted = await eventually(
      async () => {
        const now = (await incidents.get('/api/v1/incidents')).body as { alertEvents: number }[];
        return now.some((i) => i.alertEvents === 2) ? now : undefined;
      },
      { what: 'the repeat counted on the incident' },
    );
    expect(counted).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
  });

  it('resolves the incident when the monitoring tool resolves the alert', async () => {
    const res = await ingest.as(null).post('/v2/enqueue', { routing_key: routingKey, event_action: 'resolve', dedup_key: 'db1-disk' });
    expect(res.status).toBe(202);
    const resolved = await eventually(async () => {
      const list = await incidents.get('/api/v1/incidents?status=resolved');
      return list.body.length === 1 ? list.body[0] : undefined;
    });
    expect(resolved.resolvedBy).toEqual({ userId: null, name: null, source: 'monitor' });
    const timeline = await incidents.get(`/api/v1/incidents/${resolved.id}/timeline?order=asc`);
    expect(timeline.body.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['alert.joined', 'escalation.step-fired', 'notification.sent', 'alert.resolved', 'incident.resolved']),
    );
  });
});
