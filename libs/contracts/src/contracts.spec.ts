import { randomUUID } from 'node:crypto';
import { InvalidEventError, allTopics, buildEvent, parseEvent, topicOf } from './index.js';

const alertId = randomUUID();
const serviceId = randomUUID();
const trigger = {
  alertId,
  serviceId,
  integrationId: null,
  dedupKey: 'db1-disk',
  integrationType: 'events-api-v2',
  summary: 'Disk full on db1',
  severity: 'critical' as const,
  source: 'db1',
  triggeredAt: '2026-11-26T10:00:00.000Z',
};

describe('event contracts', () => {
  it('builds a versioned envelope keyed by the aggregate, with defaults applied', () => {
    const e = buildEvent('alert.triggered', alertId, trigger, { producer: 'alert-ingest', correlationId: 'c-1', occurredAt: new Date('2026-11-26T10:00:01Z') });
    expect(e).toMatchObject({
      type: 'alert.triggered',
      version: 1,
      producer: 'alert-ingest',
      correlationId: 'c-1',
      key: alertId,
      occurredAt: '2026-11-26T10:00:01.000Z',
    });
    expect(e.data.labels).toEqual({});
    expect(e.data.inMaintenance).toBe(false);
    expect(parseEvent(JSON.stringify(e))).toEqual(e);
  });

  it('refuses to produce an event that breaks its schema, naming the field', () => {
    expect(() => buildEvent('alert.triggered', alertId, { ...trigger, severity: 'disaster' as never }, { producer: 'x', correlationId: 'c' })).toThrow(
      /alert\.triggered: severity: Invalid option/,
    );
  });

  it('rejects on the consuming side what is not JSON, not an envelope, unknown or of another version', () => {
    const good = buildEvent('alert.triggered', alertId, trigger, { producer: 'x', correlationId: 'c' });
    expect(() => parseEvent(Buffer.from('{oops'))).toThrow(new InvalidEventError('message value is not JSON'));
    expect(() => parseEvent(null)).toThrow('message has no value');
    expect(() => parseEvent(JSON.stringify({ ...good, id: 'nope' }))).toThrow(/bad envelope: id: Invalid UUID/);
    expect(() => parseEvent(JSON.stringify({ ...good, type: 'alert.exploded' }))).toThrow('unknown event type "alert.exploded"');
    expect(() => parseEvent(JSON.stringify({ ...good, version: 2 }))).toThrow('alert.triggered: unsupported version 2');
    expect(() => parseEvent(JSON.stringify({ ...good, data: { ...good.data, summary: '' } }))).toThrow(/summary/);
  });

  it('routes each event type to its topic under the deployment prefix, with a dead-letter topic beside each', () => {
    expect(topicOf('alert.triggered', 't1.')).toBe('t1.klaxon.alerts');
    expect(topicOf('page.requested')).toBe('klaxon.pages');
    const names = allTopics('p.').map((t) => t.topic);
    expect(names).toContain('p.klaxon.incidents');
    expect(names).toContain('p.klaxon.incidents.dlq');
    expect(names).toHaveLength(10);
  });
});
