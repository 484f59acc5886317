/**
 * What every sender's payload is turned into before dedup: one shape, whatever the format.
 */
export type AlertAction = 'trigger' | 'acknowledge' | 'resolve';
export type Severity = 'critical' | 'error' | 'warning' | 'info';

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
}
