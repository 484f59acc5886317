import type { EventData } from '#libs/contracts';

/** The words of a page, per channel. Plain functions so they are easy to test and to read. */
export type Page = EventData<'page.requested'>;

export function emailSubject(page: Page): string {
  return `[Klaxon] #${page.incidentNumber} ${page.serviceName}: ${page.title}`.slice(0, 250);
}

export function emailText(page: Page, links: { incident: string }): string {
  return [
    `Incident #${page.incidentNumber} on ${page.serviceName} needs you.`,
    '',
    page.title,
    '',
    `Urgency: ${page.urgency}. Escalation step ${page.step + 1}${page.loop ? `, repeat ${page.loop}` : ''}.`,
    '',
    `Open it: ${links.incident}`,
  ].join('\n');
}

export function emailHtml(page: Page, links: { incident: string }): string {
  return `<!doctype html><html><body style="font-family:sans-serif">
<h2>Incident #${page.incidentNumber} on ${escapeHtml(page.serviceName)}</h2>
<p style="font-size:1.1em">${escapeHtml(page.title)}</p>
<p>Urgency: ${page.urgency}. Escalation step ${page.step + 1}${page.loop ? `, repeat ${page.loop}` : ''}.</p>
<p><a href="${escapeHtml(links.incident)}">Open the incident</a></p>
</body></html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Destinations in events and logs are masked: enough to tell them apart, not to reach them. */
export function maskDestination(d: string): string {
  const at = d.indexOf('@');
  if (at > 0) return `${d[0]}***${d.slice(at)}`;
  return d.length > 4 ? `***${d.slice(-4)}` : '***';
}
