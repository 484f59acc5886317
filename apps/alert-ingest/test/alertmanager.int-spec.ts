import { eventually } from '#libs/testing';
import { labelsFingerprint } from '../src/webhooks/alertmanager.js';
import { Alertmanager } from '#libs/testing';
import { startIngest, type Ingest } from './helpers.js';

/**
 * The real Prometheus Alertmanager, configured with pagerduty_configs, opsgenie_configs and
 * webhook_configs that all point at Klaxon, exactly as a team would after changing one URL.
 */
describe('real Prometheus Alertmanager pointed at Klaxon', () => {
  let t: Ingest;
  let am: Alertmanager;
  let pd: { key: string; serviceId: string };
  let og: { key: string; serviceId: string };
  let wh: { key: string; serviceId: string };

  beforeAll(async () => {
    t = await startIngest();
    [pd, og, wh] = await Promise.all([t.integration('events-api-v2'), t.integration('opsgenie'), t.integration('alertmanager')]);
    const klaxon = t.svc.url;
    am = await new Alertmanager(`
route:
  receiver: klaxon
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: klaxon
    pagerduty_configs:
      - routing_key: ${pd.key}
        url: ${klaxon}/v2/enqueue
        send_resolved: true
    opsgenie_configs:
      - api_key: ${og.key}
        api_url: ${klaxon}/
        send_resolved: true
    webhook_configs:
      - url: ${klaxon}/integrations/alertmanager/${wh.key}
        send_resolved: true
`).start();
  });
  afterAll(async () => {
    await am?.stop();
    await t?.close();
  });

  const open = async (serviceId: string) => t.alerts(serviceId, '&status=open');

  it('keeps one open alert per fingerprint through every integration, and resolves when Alertmanager resolves', async () => {
    const alerts = ['db1', 'db2', 'db3'].map((host) => ({
      labels: { alertname: 'DiskFull', instance: `${host}:9100`, severity: 'critical' },
      annotations: { summary: `Disk full on ${host}` },
    }));
    await am.post(alerts);
    // Posting the same alerts again (as every Prometheus evaluation does) changes nothing.
    await am.post(alerts);

    for (const s of [pd, og, wh]) {
      await eventually(async () => (await open(s.serviceId)).length === 3, {
        what: `3 open alerts on ${s === pd ? 'PagerDuty' : s === og ? 'Opsgenie' : 'webhook'} (Alertmanager said: ${am.log
          .split('\n')
          .filter((l) => /level=(error|warn)/.test(l))
          .slice(-3)
          .join(' | ')})`,
        timeoutMs: 30000,
      });
    }
    const inAm = await am.alerts();
    const fingerprints = inAm.map((a) => a.fingerprint).sort();
    expect(fingerprints).toHaveLength(3);
    // Klaxon computes the same fingerprint for senders that leave it out.
    for (const a of inAm) expect(labelsFingerprint(a.labels)).toBe(a.fingerprint);
    // The webhook alerts are keyed by Alertmanager's own fingerprints.
    expect((await open(wh.serviceId)).map((a) => a.dedupKey).sort()).toEqual(fingerprints);
    const summaries = (s: { serviceId: string }) => open(s.serviceId).then((l) => l.map((a) => a.summary).sort());
    expect(await summaries(wh)).toEqual(['Disk full on db1', 'Disk full on db2', 'Disk full on db3']);
    expect((await summaries(og)).every((m) => m.startsWith('[FIRING:1] DiskFull'))).toBe(true);

    // Alertmanager resolves db1 (its endsAt has passed) and notifies all three.
    await am.post([{ ...alerts[0]!, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    for (const s of [pd, og, wh]) {
      await eventually(async () => (await open(s.serviceId)).length === 2, { what: 'db1 resolved', timeoutMs: 30000 });
      const all = await t.alerts(s.serviceId);
      expect(all).toHaveLength(3);
      expect(all.filter((a) => a.status === 'resolved')).toHaveLength(1);
    }
    const resolved = (await t.alerts(wh.serviceId, '&status=resolved'))[0];
    expect(resolved.labels.instance).toBe('db1:9100');
    expect(am.log).not.toMatch(/level=error/);
  });
});
