import { planRounds } from './rounds.js';

describe('planRounds', () => {
  it('puts the n-th event of a key in round n, keeping each key in order', () => {
    const events = ['a:trigger', 'b:trigger', 'a:resolve', 'a:trigger', 'c:trigger', 'b:resolve'];
    expect(planRounds(events, (e) => e.split(':')[0]!)).toEqual([['a:trigger', 'b:trigger', 'c:trigger'], ['a:resolve', 'b:resolve'], ['a:trigger']]);
  });

  it('gives one round when every key differs', () => {
    expect(planRounds([1, 2, 3], String)).toEqual([[1, 2, 3]]);
  });
});
