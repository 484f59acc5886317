import { createHmac } from 'node:crypto';
import { labelsFingerprint, normalizeWebhook, parseWebhook } from './alertmanager.js';
import { normalizeGeneric, valueAt } from './generic.js';
import { grafanaSignatureProblem } from './signature.js';

describe('Alertmanager webhook', () => {
  it('computes Alertmanager fingerprints (FNV-1a 64 over sorted labels)', () => {
    // Alertmanager's own value for the empty label set is FNV-1a's offset basis.
    expect(labelsFingerprint({})).toBe('cbf29ce484222325');
    expect(labelsFingerprint({ b: '2', a: '1' })).toBe(labelsFingerprint({ a: '1', b: '2' }));
    expect(labelsFingerprint({ a: '1' })).not.toBe(labelsFingerprint({ a: '2' }));
    expect(labelsFingerprint({ a: '1' })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('turns each alert into an event; falls back to a computed fingerprint; refuses other versions', () => {
    const parsed = parseWebhook(
      { version: '4', alerts: [{ status: 'firing', labels: { alertname: 'Up', instance: 'x' }, startsAt: '0001-01-01T00:00:00Z' }] },
      'alertmanager',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join());
    const [e] = normalizeWebhook(parsed.webhook, 'alertmanager', 'error');
    expect(e).toMatchObject({
      action: 'trigger',
      dedupKey: labelsFingerprint({ alertname: 'Up', instance: 'x' }),
      summary: 'Up on x',
      severity: 'error',
      occurrence: null,
    });
    expect(parseWebhook({ version: '3', alerts: [] }, 'alertmanager')).toMatchObject({ ok: false });
    expect(parseWebhook({ version: '2', alerts: [{ status: 'firing', labels: {} }] }, 'alertmanager')).toEqual({
      ok: false,
      errors: ['\'version\' is "2"; this endpoint reads alertmanager webhook version 4'],
    });
    expect(parseWebhook([], 'grafana')).toMatchObject({ ok: false });
  });
});

describe('generic webhook paths', () => {
  it('reads dotted paths with indexes, and nothing from prototypes', () => {
    const doc = { a: { b: [{ c: 1 }, { c: 'two' }] } };
    expect(valueAt(doc, 'a.b[1].c')).toBe('two');
    expect(valueAt(doc, '$.a.b[0].c')).toBe(1);
    expect(valueAt(doc, 'a.x.c')).toBeUndefined();
    expect(valueAt(doc, 'constructor')).toBeUndefined();
    expect(valueAt(doc, 'a.b.length')).toBeUndefined();
  });

  it('hashes configured fields into a stable key and maps actions', () => {
    const config = { summaryPath: 'title', actionPath: 'status' } as const;
    const one = normalizeGeneric({ title: 'A', status: 'RESOLVED' }, config);
    const two = normalizeGeneric({ title: 'A', status: 'firing', extra: 1 }, config);
    if (!one.ok || !two.ok) throw new Error('parse failed');
    expect(one.events[0]!.action).toBe('resolve');
    expect(two.events[0]!.action).toBe('trigger');
    expect(one.events[0]!.dedupKey).toBe(two.events[0]!.dedupKey);
    expect(normalizeGeneric([], config)).toEqual({ ok: false, errors: ['The list of events is empty: nothing to do'] });
    expect(normalizeGeneric([1, { status: 'ok' }], config)).toMatchObject({
      ok: false,
      errors: ['event 0: must be a JSON object', expect.stringContaining('event 1: field "title"')],
    });
  });
});

describe('Grafana HMAC', () => {
  const secret = 's3cret-s3cret';
  const body = Buffer.from('{"a":1}');
  const sig = (s: string) => createHmac('sha256', secret).update(s).digest('hex');
  const now = 1_700_000_000_000;

  it('accepts the right signature and refuses others', () => {
    expect(grafanaSignatureProblem({ secret, rawBody: body, signature: sig('{"a":1}'), timestampRequired: false, nowMs: now })).toBeUndefined();
    expect(grafanaSignatureProblem({ secret, rawBody: body, signature: sig('{"a":2}'), timestampRequired: false, nowMs: now })).toMatch(/does not match/);
    expect(grafanaSignatureProblem({ secret, rawBody: body, signature: 'zz', timestampRequired: false, nowMs: now })).toMatch(/does not match/);
    expect(grafanaSignatureProblem({ secret, rawBody: body, signature: undefined, timestampRequired: false, nowMs: now })).toMatch(/not signed/);
  });

  it('signs "timestamp:body" when a timestamp header is configured, and refuses stale ones', () => {
    const ts = String(now / 1000);
    expect(
      grafanaSignatureProblem({ secret, rawBody: body, signature: sig(`${ts}:{"a":1}`), timestamp: ts, timestampRequired: true, nowMs: now }),
    ).toBeUndefined();
    const old = String(now / 1000 - 3600);
    expect(grafanaSignatureProblem({ secret, rawBody: body, signature: sig(`${old}:{"a":1}`), timestamp: old, timestampRequired: true, nowMs: now })).toMatch(
      /5 minutes/,
    );
  });
});
