import { clampSummary, severityFromWord } from './normalized.js';
import { parseEventV2 } from '../pagerduty/events-v2.js';

describe('normalising senders', () => {
  it('maps severity words and falls back for unknown ones', () => {
    expect(severityFromWord('CRIT', 'info')).toBe('critical');
    expect(severityFromWord('warn', 'info')).toBe('warning');
    expect(severityFromWord('P2', 'info')).toBe('error');
    expect(severityFromWord('purple', 'error')).toBe('error');
    expect(severityFromWord(3, 'info')).toBe('info');
  });

  it('keeps summaries within the contract', () => {
    expect(clampSummary('  ')).toBe('(no summary)');
    expect(clampSummary('x'.repeat(2000))).toHaveLength(1024);
  });

  it('PagerDuty: requires a dedup key to acknowledge and a payload to trigger, and accepts "+0000" timestamps', () => {
    const key = 'k'.repeat(32);
    expect(parseEventV2({ routing_key: key, event_action: 'resolve' })).toEqual({ ok: false, errors: ["'dedup_key' is required for resolve events"] });
    expect(parseEventV2({ routing_key: key, event_action: 'trigger' })).toEqual({ ok: false, errors: ["'payload' is required for trigger events"] });
    expect(
      parseEventV2({
        routing_key: key,
        event_action: 'trigger',
        payload: { summary: 's', source: 'x', severity: 'info', timestamp: '2015-07-17T08:42:58.315+0000' },
      }).ok,
    ).toBe(true);
    expect(
      parseEventV2({ routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info', timestamp: 'yesterday' } }),
    ).toEqual({
      ok: false,
      errors: ["'payload.timestamp' must be an ISO 8601 date-time"],
    });
  });
});

describe('sanitizeEvent', () => {
  const base = { action: 'trigger' as const, dedupKey: 'k', summary: 's', severity: 'info' as const, source: null, details: {}, links: [], labels: {} };

  it('drops NUL characters, repairs lone surrogates, and bounds labels and links', async () => {
    const { sanitizeEvent } = await import('./sanitize.js');
    const labels = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`l${i}`, 'v'.repeat(5000)]));
    const e = sanitizeEvent({
      ...base,
      summary: '\u0000',
      dedupKey: 'a\u0000b',
      details: { t: 'x\ud800' },
      labels,
      links: Array.from({ length: 50 }, () => ({ href: 'h' })),
    });
    expect(e.summary).toBe('(no summary)');
    expect(e.dedupKey).toBe('ab');
    expect(e.details).toEqual({ t: 'x\ufffd' });
    expect(Object.keys(e.labels)).toHaveLength(64);
    expect(e.labels.l0).toHaveLength(1000);
    expect(e.links).toHaveLength(20);
  });

  it('refuses details nested too deep and keys that are only NULs', async () => {
    const { sanitizeEvent } = await import('./sanitize.js');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    expect(() => sanitizeEvent({ ...base, details: { deep } })).toThrow(/nested more than 32 levels/);
    expect(() => sanitizeEvent({ ...base, dedupKey: '\u0000' })).toThrow(/dedup key is empty/);
  });
});
