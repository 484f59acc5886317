import type { Severity } from '#libs/contracts';
/**
 * What every sender's payload is turned into before dedup: one shape, whatever the format.
 */
export type AlertAction = 'trigger' | 'acknowledge' | 'resolve';
export type { Severity };

export interface NormalizedEvent {
  action: AlertAction;
  dedupKey: string;
  summary: string;
  severity: Severity;
  source: string | null;
  component?: string | null;
  group?: string | null;
  class?: string | null;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
  labels: Record<string, string>;
  /**
   * One episode of the sender's alert (Alertmanager: its startsAt). A trigger for an episode that
   * was already resolved is a late duplicate (an HA peer, a retry) and must not reopen it.
   */
  occurrence?: string | null;
  /** Act on exactly this alert (Opsgenie's identifierType=id), not on whichever is open for the key. */
  alertId?: string;
  /** Who acknowledged or closed it at the sender, and their note (Opsgenie's user and note). */
  actor?: string | null;
  note?: string | null;
}

/** The integration an event came through, as the write path needs it. */
export interface IntegrationRef {
  id: string;
  serviceId: string;
  type: string;
  /** Its settings (rate limit); not needed to write. */
  config?: Record<string, unknown>;
}

export type ApplyOutcome = 'created' | 'deduplicated' | 'acknowledged' | 'resolved' | 'ignored';

export interface EventOutcome {
  outcome: ApplyOutcome;
  alertId?: string;
  inMaintenance?: boolean;
}

/** Limits of the alerts table and the alert.* contracts, applied by every parser. */
export const LIMITS = { summary: 1024, dedupKey: 512, source: 1024 } as const;

/** Trims a summary to what the contracts accept; an empty one becomes a placeholder a responder can still read. */
export function clampSummary(s: string | undefined | null, fallback = '(no summary)'): string {
  const t = (s ?? '').trim();
  if (!t) return fallback;
  return t.length > LIMITS.summary ? `${t.slice(0, LIMITS.summary - 1)}…` : t;
}

export function clampSource(s: string | undefined | null): string | null {
  if (s === undefined || s === null || s === '') return null;
  return s.length > LIMITS.source ? s.slice(0, LIMITS.source) : s;
}

/**
 * Senders' many words for severity, mapped to Klaxon's four (Alertmanager labels, Grafana,
 * generic webhooks). Unknown words give the fallback.
 */
export function severityFromWord(word: unknown, fallback: Severity): Severity {
  if (typeof word !== 'string') return fallback;
  const w = word.trim().toLowerCase();
  if (['critical', 'crit', 'fatal', 'emergency', 'emerg', 'alert', 'page', 'p1', 'sev1', 'disaster'].includes(w)) return 'critical';
  if (['error', 'err', 'high', 'major', 'p2', 'sev2'].includes(w)) return 'error';
  if (['warning', 'warn', 'medium', 'minor', 'average', 'p3', 'sev3'].includes(w)) return 'warning';
  if (['info', 'information', 'informational', 'notice', 'low', 'none', 'ok', 'debug', 'p4', 'p5', 'sev4', 'sev5'].includes(w)) return 'info';
  return fallback;
}

/** Text a person can read: at least one character that is neither blank nor a control character. */
export function hasVisibleText(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c !== 0x7f && ch.trim() !== '') return true;
  }
  return false;
}
