import { escapeHtml } from '../notifications/content.js';

export interface InboxMessage {
  id: string;
  notification_id: string | null;
  channel: 'email' | 'sms' | 'voice' | 'push';
  direction: 'in' | 'out';
  destination: string;
  subject: string | null;
  body: string;
  meta: { actions?: { label: string; url: string }[]; replayOf?: string };
  created_at: Date;
}

const ICON = { email: '✉️ Email', sms: '💬 SMS', voice: '📞 Call', push: '🔔 Push' } as const;

function actions(m: InboxMessage): string {
  const list = m.meta.actions ?? [];
  return list.length ? `<p>${list.map((a) => `<a class="btn" href="${escapeHtml(a.url)}">${escapeHtml(a.label)}</a>`).join(' ')}</p>` : '';
}

function smsReplyForm(m: InboxMessage): string {
  return `<form method="post" action="inbox/sms-replies"><input type="hidden" name="from" value="${escapeHtml(m.destination)}">
<input name="body" placeholder="Reply as ${escapeHtml(m.destination)}, e.g. 1a" required> <button>Send</button></form>`;
}

function keypad(callId: string): string {
  const keys = [
    ['4', 'Acknowledge'],
    ['6', 'Resolve'],
    ['5', 'Escalate'],
    ['1', 'Repeat'],
  ];
  return `<p>${keys
    .map(
      ([d, label]) =>
        `<form class="inline" method="post" action="inbox/calls/${escapeHtml(callId)}/keys"><input type="hidden" name="digits" value="${d}"><button title="${label}">${d} · ${label}</button></form>`,
    )
    .join(' ')}</p>`;
}

/** The capture inbox as a page a person reads (and answers) in a browser. */
export function renderInbox(messages: InboxMessage[], opts: { canReplySms: boolean; canPressKeys: boolean }): string {
  const rows = messages
    .map((m) => {
      const who =
        m.direction === 'in'
          ? `from ${escapeHtml(m.destination)}`
          : `to ${escapeHtml(m.destination.length > 40 ? `${m.destination.slice(0, 37)}…` : m.destination)}`;
      const title = m.subject ? `<b>${escapeHtml(m.subject)}</b><br>` : '';
      let extra = actions(m);
      if (m.direction === 'out' && m.channel === 'sms' && opts.canReplySms) extra += smsReplyForm(m);
      const callId = m.channel === 'voice' && m.direction === 'out' ? (m.notification_id ?? m.meta.replayOf) : undefined;
      if (callId && opts.canPressKeys) extra += keypad(callId);
      return `<article class="${m.direction}"><header>${title}<small>${ICON[m.channel]} ${who} · ${new Date(m.created_at).toISOString()}</small></header><pre>${escapeHtml(m.body)}</pre>${extra}</article>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Klaxon inbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem}article{border:1px solid #ccc;border-radius:6px;padding:.75rem;margin:.75rem 0}
article.in{background:#eef6ff;margin-left:3rem}pre{white-space:pre-wrap;font-family:inherit}.btn{display:inline-block;padding:.4em .9em;background:#b45309;color:#fff;border-radius:6px;text-decoration:none;margin:.1em}
form.inline{display:inline}input[name=body]{width:60%;padding:.3em}</style></head>
<body><h1>Klaxon inbox</h1><p>Messages Klaxon would have sent on channels with no provider set up (capture mode). Answer an SMS or press a call's keys here as if on the phone; email and push links work as they would in a real message. <a href="inbox">Refresh</a></p>
${rows || '<p><i>Nothing yet. Trigger an alert.</i></p>'}
<script>setInterval(function(){var typing=[].some.call(document.querySelectorAll('input[name=body]'),function(i){return i.value||i===document.activeElement});if(!typing)location.reload()},5000)</script></body></html>`;
}
