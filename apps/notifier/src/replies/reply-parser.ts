import type { ResponderActionName } from './responder-actions.service.js';
/**
 * What a responder texted back, GoAlert style. Each open incident paged to a number has a short
 * reply code for that number (bundles use codes from 100):
 *   "12a", "12 ack", "ack 12", "4 12", "a 12"  acknowledge code 12
 *   "12c", "resolve 12", "close 12", "6 12"     resolve code 12
 *   "12e", "escalate 12", "5 12"                escalate code 12
 *   "ack", "a", "resolve", "c"                  the latest page to this number
 *   "100aa"                                      the doubled letter of GoAlert's "all" is accepted
 *   STOP / START / HELP                          carrier keywords, honoured
 */
/** What a reply asks for: the responder actions (one type with links and keypresses). */
export type ReplyAction = ResponderActionName;

export type ParsedReply =
  { kind: 'action'; action: ReplyAction; code: number | null } | { kind: 'stop' } | { kind: 'start' } | { kind: 'help' } | { kind: 'unknown' };

const WORDS: Record<string, ReplyAction> = {
  a: 'acknowledge',
  aa: 'acknowledge',
  ack: 'acknowledge',
  acknowledge: 'acknowledge',
  '4': 'acknowledge',
  c: 'resolve',
  cc: 'resolve',
  close: 'resolve',
  r: 'resolve',
  res: 'resolve',
  resolve: 'resolve',
  '6': 'resolve',
  e: 'escalate',
  esc: 'escalate',
  escalate: 'escalate',
  '5': 'escalate',
};

const STOP = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit']);
const START = new Set(['start', 'unstop', 'yes']);
const HELP = new Set(['help', 'info', '?']);

export function parseReply(text: string): ParsedReply {
  const s = text
    .toLowerCase()
    .replace(/[#.,!;:'"]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (STOP.has(s)) return { kind: 'stop' };
  if (START.has(s)) return { kind: 'start' };
  if (HELP.has(s)) return { kind: 'help' };

  // "12a", "12 ack", "100aa"
  let m = /^(\d{1,4}) ?([a-z]+)$/.exec(s);
  if (m && WORDS[m[2]!]) return { kind: 'action', action: WORDS[m[2]!]!, code: Number(m[1]) };
  // "ack 12", "4 12", "resolve 12"
  m = /^([a-z]+|[456]) (\d{1,4})$/.exec(s);
  if (m && WORDS[m[1]!]) return { kind: 'action', action: WORDS[m[1]!]!, code: Number(m[2]) };
  // "ack": the latest page to this number (a bare digit stays ambiguous: it could be a code)
  if (/^[a-z]+$/.test(s) && WORDS[s]) return { kind: 'action', action: WORDS[s], code: null };
  return { kind: 'unknown' };
}

/** The reply that tells someone how to answer (for HELP and for anything not understood). */
export function replyHelp(example: number | null): string {
  const c = example ?? 1;
  return `Klaxon: reply ${c}a to acknowledge, ${c}c to resolve, ${c}e to escalate (or "ack ${c}", "resolve ${c}"); "ack" alone answers the latest page. STOP ends SMS, START resumes.`;
}
