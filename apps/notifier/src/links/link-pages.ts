import { escapeHtml } from '../notifications/content.js';

/** The small mobile pages behind acknowledge/resolve links. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Klaxon</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.4}h1{font-size:1.4rem}
button{font-size:1.2rem;padding:.8rem 1.4rem;border:0;border-radius:8px;background:#b45309;color:#fff;width:100%}ul{padding-left:1.2rem}.muted{color:#666}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const VERB = { acknowledge: 'Acknowledge', resolve: 'Resolve', escalate: 'Escalate' } as const;

/** Asks before acting: a GET (a mail scanner following the link) never acknowledges anything. */
export function confirmPage(action: keyof typeof VERB, incidents: { number: number; title: string }[], postUrl: string): string {
  const list = incidents.map((i) => `<li><b>#${i.number}</b> ${escapeHtml(i.title)}</li>`).join('');
  const what = incidents.length === 1 ? `incident #${incidents[0]!.number}` : `${incidents.length} incidents`;
  return page(
    `${VERB[action]} ${what}?`,
    `<ul>${list}</ul><form method="post" action="${escapeHtml(postUrl)}"><button type="submit">${VERB[action]} ${escapeHtml(what)}</button></form>
<p class="muted">This link works once and expires.</p>`,
  );
}

export function resultPage(title: string, message: string): string {
  return page(title, `<p>${escapeHtml(message)}</p>`);
}
