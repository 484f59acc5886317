import { parseReply } from './reply-parser.js';

describe('SMS reply codes', () => {
  it.each([
    ['12a', 'acknowledge', 12],
    ['12 a', 'acknowledge', 12],
    ['12ACK', 'acknowledge', 12],
    ['ack 12', 'acknowledge', 12],
    ['Ack #12', 'acknowledge', 12],
    ['4 12', 'acknowledge', 12],
    ['a 3', 'acknowledge', 3],
    ['100aa', 'acknowledge', 100],
    ['6 12', 'resolve', 12],
    ['resolve 12', 'resolve', 12],
    ['close 7', 'resolve', 7],
    ['12c', 'resolve', 12],
    ['12r', 'resolve', 12],
    ['5 2', 'escalate', 2],
    ['2e', 'escalate', 2],
    ['escalate 2', 'escalate', 2],
  ])('"%s" → %s code %d', (text, action, code) => {
    expect(parseReply(text)).toEqual({ kind: 'action', action, code });
  });

  it.each([
    ['ack', 'acknowledge'],
    [' A ', 'acknowledge'],
    ['resolve', 'resolve'],
  ])('bare "%s" answers the latest page', (text, action) => {
    expect(parseReply(text)).toEqual({ kind: 'action', action, code: null });
  });

  it('honours the carrier keywords', () => {
    expect(parseReply('STOP')).toEqual({ kind: 'stop' });
    expect(parseReply('unsubscribe')).toEqual({ kind: 'stop' });
    expect(parseReply('Start')).toEqual({ kind: 'start' });
    expect(parseReply('HELP')).toEqual({ kind: 'help' });
  });

  it.each(['hello', '12', '4', '12 4', '12x', 'ack twelve', ''])('does not guess at "%s"', (text) => {
    expect(parseReply(text)).toEqual({ kind: 'unknown' });
  });
});
