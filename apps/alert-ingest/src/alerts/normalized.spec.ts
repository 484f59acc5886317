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
    expect(parseEventV2({ routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info', timestamp: '2015-07-17T08:42:58.315+0000' } }).ok).toBe(true);
    expect(parseEventV2({ routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info', timestamp: 'yesterday' } })).toEqual({
      ok: false,
      errors: ["'payload.timestamp' must be an ISO 8601 date-time"],
    });
  });
});
