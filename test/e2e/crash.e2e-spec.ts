import { Api, SmtpSink, TestWorld, createPagingWorld, eventually, pdTrigger, queryDb, waitUntilQuiet } from '#libs/testing';

/**
 * kill -9 at the worst moments, through real processes: the page is neither lost nor doubled.
 * Each service is started with CRASH_AT=<point>, dies there with SIGKILL, and is restarted.
 */
describe('crash safety: a kill -9 at any of these points loses no page and doubles none', () => {
  let world: TestWorld;
  let smtp: SmtpSink;

  beforeEach(async () => {
    world = new TestWorld();
    smtp = await new SmtpSink().start();
  });
  afterEach(async () => {
    await world.close();
    await smtp.stop();
  });

  async function stack(crash: Partial<Record<'alert-ingest' | 'oncall' | 'notifier' | 'incidents', string>>) {
    const [ingest, oncall, notifier, incidents] = await Promise.all([
      world.spawn('alert-ingest', crash['alert-ingest'] ? { CRASH_AT: crash['alert-ingest'] } : {}),
      world.spawn('oncall', crash.oncall ? { CRASH_AT: crash.oncall } : {}),
      world.spawn('notifier', { SMTP_URL: smtp.url, ...(crash.notifier ? { CRASH_AT: crash.notifier } : {}) }),
      world.spawn('incidents', crash.incidents ? { CRASH_AT: crash.incidents } : {}),
    ]);
    const setup = await createPagingWorld(oncall.api, ingest.api, { email: 'dana@example.com' });
    return { ingest, oncall, notifier, incidents, setup };
  }

  async function send(ingest: Api, body: unknown): Promise<number | 'connection lost'> {
    try {
      return (await ingest.as(null).post('/v2/enqueue', body)).status;
    } catch {
      // The process may die before the answer is written; a sender would retry (PagerDuty semantics).
      return 'connection lost';
    }
  }

  async function expectExactlyOnePage(incidentsApi: () => Api) {
    const mail = await eventually(async () => smtp.to('dana@example.com')[0], { what: 'the page', timeoutMs: 30000 });
    expect(mail.subject).toContain('Disk full on db1');
    // All four services have handled everything (the restarted one included): a second page would have been sent by now.
    await waitUntilQuiet(world);
    expect(smtp.to('dana@example.com')).toHaveLength(1);
    const list = await incidentsApi().get('/api/v1/incidents');
    expect(list.body).toHaveLength(1);
  }

  it('alert-ingest killed after the alert committed but before its event was published: published after restart, paged once', async () => {
    const { ingest, incidents, setup } = await stack({ 'alert-ingest': 'relay.before-publish' });
    await send(ingest.api, pdTrigger(setup.routingKey, 'db1', 'Disk full on db1'));
    expect(await ingest.waitExit()).toBe(null);
    const pending = await queryDb(world.databaseUrl('alert-ingest'), 'SELECT type FROM outbox');
    expect(pending).toEqual([{ type: 'alert.triggered' }]);
    await ingest.start({ CRASH_AT: '' });
    await expectExactlyOnePage(() => incidents.api);
  });

  it('alert-ingest killed after Kafka took the event but before the relay recorded it: published twice, applied once', async () => {
    const { ingest, incidents, setup } = await stack({ 'alert-ingest': 'relay.after-publish' });
    const tap = await world.tap('alerts');
    await send(ingest.api, pdTrigger(setup.routingKey, 'db1', 'Disk full on db1'));
    await ingest.waitExit();
    await ingest.start({ CRASH_AT: '' });
    await eventually(async () => tap.ofType('alert.triggered').length === 2, { what: 'the event published a second time' });
    const [first, second] = tap.ofType('alert.triggered');
    expect(first!.json!.id).toBe(second!.json!.id);
    await expectExactlyOnePage(() => incidents.api);
  });

  it('incidents killed after opening the incident but before committing it: opened once after restart', async () => {
    const { ingest, incidents, setup } = await stack({ incidents: 'consumer.alert.triggered.before-commit' });
    expect(await send(ingest.api, pdTrigger(setup.routingKey, 'db1', 'Disk full on db1'))).toBe(202);
    await incidents.waitExit();
    await incidents.start({ CRASH_AT: '' });
    await expectExactlyOnePage(() => incidents.api);
  });

  it('oncall killed after Kafka took the page request but before recording it: the user gets one email', async () => {
    const { ingest, oncall, incidents, setup } = await stack({});
    // Arm the crash only now: setting up the world publishes directory events through the same relay.
    await oncall.stop('SIGTERM');
    await oncall.start({ CRASH_AT: 'relay.after-publish' });
    expect(await send(ingest.api, pdTrigger(setup.routingKey, 'db1', 'Disk full on db1'))).toBe(202);
    await oncall.waitExit();
    await oncall.start({ CRASH_AT: '' });
    await expectExactlyOnePage(() => incidents.api);
  });

  it('notifier killed while handling the page request: the user gets one email after restart', async () => {
    const { ingest, notifier, incidents, setup } = await stack({ notifier: 'consumer.page.requested.before-commit' });
    expect(await send(ingest.api, pdTrigger(setup.routingKey, 'db1', 'Disk full on db1'))).toBe(202);
    await notifier.waitExit();
    await notifier.start({ CRASH_AT: '' });
    await expectExactlyOnePage(() => incidents.api);
  });
});
