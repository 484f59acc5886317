import type { EventData } from '#libs/contracts';

/** The words of a page, per channel. Plain functions so they are easy to test and to read. */
export type Page = EventData<'page.requested'>;

/** One incident in a message; a bundle carries several. */
export interface PageItem {
  incidentId: string;
  number: number;
  title: string;
  serviceName: string;
  urgency: 'high' | 'low';
  step: number;
  loop: number;
  reassigned: boolean;
}

export function pageItem(p: Page): PageItem {
  return {
    incidentId: p.incidentId,
    number: p.incidentNumber,
    title: p.title,
    serviceName: p.serviceName,
    urgency: p.urgency,
    step: p.step,
    loop: p.loop,
    reassigned: p.reason === 'reassigned',
  };
}

/** Action links for one incident (or for all incidents of a bundle). */
export interface ActionLinks {
  acknowledge: string;
  resolve: string;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
  actions: { label: string; url: string }[];
}

function services(items: PageItem[]): string {
  const names = [...new Set(items.map((i) => i.serviceName))];
  return names.length <= 2 ? names.join(' and ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

function numbers(items: PageItem[], max = 5): string {
  const shown = items.slice(0, max).map((i) => `#${i.number}`);
  return items.length > max ? `${shown.join(', ')} +${items.length - max} more` : shown.join(', ');
}

function stepLine(i: PageItem): string {
  if (i.reassigned) return `Urgency: ${i.urgency}. Reassigned to you.`;
  return `Urgency: ${i.urgency}. Escalation step ${i.step + 1}${i.loop ? `, repeat ${i.loop}` : ''}.`;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

// ---- email ------------------------------------------------------------------------------------

export function emailSubject(items: PageItem[]): string {
  if (items.length === 1) {
    const [i] = items as [PageItem];
    return truncate(`[Klaxon] #${i.number} ${i.serviceName}: ${i.title}`, 250);
  }
  return truncate(`[Klaxon] ${items.length} incidents on ${services(items)}`, 250);
}

/**
 * One incident: its title, its step and two links. A bundle: every incident with its own links,
 * and links that act on all of them.
 */
export function pageEmail(items: PageItem[], links: { each: ActionLinks[]; all: ActionLinks | null; incident: (i: PageItem) => string | null }): EmailContent {
  const subject = emailSubject(items);
  const actions: EmailContent['actions'] = [];
  if (links.all)
    actions.push({ label: `Acknowledge all ${items.length}`, url: links.all.acknowledge }, { label: `Resolve all ${items.length}`, url: links.all.resolve });
  const suffix = (i: PageItem) => (items.length > 1 ? ` #${i.number}` : '');
  items.forEach((i, n) =>
    actions.push({ label: `Acknowledge${suffix(i)}`, url: links.each[n]!.acknowledge }, { label: `Resolve${suffix(i)}`, url: links.each[n]!.resolve }),
  );

  if (items.length === 1) {
    const [i] = items as [PageItem];
    const l = links.each[0]!;
    const text = [
      `Incident #${i.number} on ${i.serviceName} needs you.`,
      '',
      i.title,
      '',
      stepLine(i),
      '',
      `Acknowledge: ${l.acknowledge}`,
      `Resolve: ${l.resolve}`,
      ...(links.incident(i) ? [`Open it: ${links.incident(i)}`] : []),
    ].join('\n');
    const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>Incident #${i.number} on ${escapeHtml(i.serviceName)}</h2>
<p style="font-size:1.1em">${escapeHtml(i.title)}</p>
<p>${escapeHtml(stepLine(i))}</p>
<p>${button('Acknowledge', l.acknowledge, '#b45309')} ${button('Resolve', l.resolve, '#15803d')}</p>
${links.incident(i) ? `<p><a href="${escapeHtml(links.incident(i)!)}">Open the incident</a></p>` : ''}
</body></html>`;
    return { subject, text, html, actions };
  }

  const all = links.all!;
  const text = [
    `${items.length} incidents on ${services(items)} need you.`,
    '',
    ...items.flatMap((i, n) => [
      `#${i.number} ${i.serviceName}: ${i.title}`,
      `  Acknowledge: ${links.each[n]!.acknowledge}`,
      `  Resolve: ${links.each[n]!.resolve}`,
    ]),
    '',
    `Acknowledge all ${items.length}: ${all.acknowledge}`,
    `Resolve all ${items.length}: ${all.resolve}`,
  ].join('\n');
  const rows = items
    .map(
      (i, n) =>
        `<tr><td><b>#${i.number}</b></td><td>${escapeHtml(i.serviceName)}: ${escapeHtml(i.title)}</td><td><a href="${escapeHtml(links.each[n]!.acknowledge)}">Acknowledge</a> · <a href="${escapeHtml(links.each[n]!.resolve)}">Resolve</a></td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>${items.length} incidents on ${escapeHtml(services(items))}</h2>
<p>${button(`Acknowledge all ${items.length}`, all.acknowledge, '#b45309')} ${button(`Resolve all ${items.length}`, all.resolve, '#15803d')}</p>
<table cellpadding="6">${rows}</table>
</body></html>`;
  return { subject, text, html, actions };
}

function button(label: string, url: string, color: string): string {
  return `<a href="${escapeHtml(url)}" style="display:inline-block;padding:.6em 1.2em;background:${color};color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(label)}</a>`;
}

export function stakeholderEmail(u: EventData<'stakeholder-update.requested'>): { subject: string; text: string; html: string } {
  const subject = truncate(`[Klaxon] Update on #${u.number} ${u.title}: ${u.summary}`, 250);
  const text = [`Update on incident #${u.number}: ${u.title}`, '', u.summary, '', u.message, '', 'You receive this as a stakeholder of the incident.'].join(
    '\n',
  );
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>Update on incident #${u.number}: ${escapeHtml(u.title)}</h2>
<p style="font-size:1.1em"><b>${escapeHtml(u.summary)}</b></p>
<div style="white-space:pre-wrap">${escapeHtml(u.message)}</div>
<p style="color:#666;font-size:.9em">You receive this as a stakeholder of the incident.</p>
</body></html>`;
  return { subject, text, html };
}

// ---- status updates ----------------------------------------------------------------------------

/** "#12 acknowledged by Sam." */
export function statusLine(number: number, status: 'acknowledged' | 'resolved', by: string | null): string {
  return `#${number} ${status}${by ? ` by ${by}` : ''}.`;
}

/** One or several status updates to one place, in one message. */
export function statusMessage(lines: string[]): { subject: string; text: string; html: string; sms: string; title: string } {
  const subject = truncate(lines.length === 1 ? `[Klaxon] ${lines[0]!.replace(/\.$/, '')}` : `[Klaxon] ${lines.length} incident updates`, 250);
  const text = ['Klaxon incident updates:', '', ...lines, '', 'You get these because you asked for status updates on this contact method.'].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<p style="color:#666;font-size:.9em">You get these because you asked for status updates on this contact method.</p></body></html>`;
  return {
    subject,
    text,
    html,
    sms: truncate(`Klaxon: ${lines.join(' ')}`, SMS_MAX),
    title: lines.length === 1 ? `Klaxon: ${lines[0]}` : `Klaxon: ${lines.length} incident updates`,
  };
}

// ---- SMS --------------------------------------------------------------------------------------

/** One SMS segment is 160 GSM characters; pages stay near that so they arrive as one message. */
export const SMS_MAX = 300;

export function pageSms(items: PageItem[], code: number): string {
  if (items.length === 1) {
    const [i] = items as [PageItem];
    const tail = ` Reply ${code}a to ack, ${code}c to resolve.`;
    const head = `Klaxon #${i.number} ${i.serviceName}: `;
    return `${head}${truncate(i.title, Math.max(20, 160 - head.length - tail.length))}${tail}`;
  }
  return truncate(
    `Klaxon: ${items.length} incidents on ${services(items)} (${numbers(items)}) — reply ${code}a to acknowledge all, ${code}c to resolve all.`,
    SMS_MAX,
  );
}

export function verificationSms(code: string, ttlMinutes: number): string {
  return `Your Klaxon verification code is ${code}. It expires in ${ttlMinutes} minutes. If you did not ask for it, ignore this message.`;
}

// ---- voice ------------------------------------------------------------------------------------

export const VOICE_KEYS = { acknowledge: '4', escalate: '5', resolve: '6', repeat: '1' } as const;

export function pageVoiceScript(items: PageItem[]): string {
  const keys = 'Press 4 to acknowledge, 6 to resolve, 5 to escalate, or 1 to hear this again.';
  if (items.length === 1) {
    const [i] = items as [PageItem];
    return `This is Klaxon. Incident ${i.number} on ${i.serviceName}: ${truncate(i.title, 300)}. ${keys}`;
  }
  const list = items
    .slice(0, 5)
    .map((i) => `Incident ${i.number}: ${truncate(i.title, 120)}.`)
    .join(' ');
  return `This is Klaxon. You have ${items.length} incidents on ${services(items)}. ${list}${items.length > 5 ? ` And ${items.length - 5} more.` : ''} ${keys.replace('to acknowledge', 'to acknowledge all').replace('to resolve', 'to resolve all').replace('to escalate', 'to escalate all')}`;
}

export function verificationVoiceScript(code: string): string {
  const spoken = code.split('').join(', ');
  return `This is Klaxon. Your verification code is: ${spoken}. Again: ${spoken}. Goodbye.`;
}

// ---- push -------------------------------------------------------------------------------------

export function pagePush(items: PageItem[]): { title: string; body: string } {
  if (items.length === 1) {
    const [i] = items as [PageItem];
    return { title: truncate(`#${i.number} ${i.serviceName}`, 100), body: truncate(i.title, 500) };
  }
  return {
    title: `${items.length} incidents on ${truncate(services(items), 80)}`,
    body: truncate(items.map((i) => `#${i.number} ${i.title}`).join('\n'), 500),
  };
}

// ---- helpers ----------------------------------------------------------------------------------

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Provider error texts may quote the number or address ("The 'To' number +14155550100 is not a
 * valid phone number"): masked before they reach logs and events.
 */
export function maskContacts(text: string): string {
  return text
    .replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, (m) => maskDestination(m))
    .replace(/\+?\d[\d ()-]{6,}\d/g, (m) => {
      const digits = m.replace(/[^\d+]/g, '');
      // Phone numbers have 8 digits or more; leave dates and error codes alone.
      return digits.replace('+', '').length >= 8 && !/^\d{4}-\d{2}-\d{2}/.test(m) ? maskDestination(digits) : m;
    });
}

/** Destinations in events and logs are masked: enough to tell them apart, not to reach them. */
export function maskDestination(d: string): string {
  const at = d.indexOf('@');
  if (at > 0) return `${d[0]}***${d.slice(at)}`;
  return d.length > 4 ? `***${d.slice(-4)}` : '***';
}
