import { nextPosition, PolicyInput, totalFirings, type PolicySnapshot } from './policy.js';

const step = { delayMinutes: 5, targets: [{ type: 'user' as const, id: '7d4c9a34-0b8e-4a63-9a49-8a6f6a0c1f10' }] };
const policy = (steps: number, repeatCount: number): PolicySnapshot => ({ id: 'p', name: 'p', repeatCount, steps: Array.from({ length: steps }, () => step) });

describe('walking an escalation policy', () => {
  it('goes through the steps, loops back to step 1 repeatCount times, then ends', () => {
    const p = policy(2, 1);
    const walk = [];
    for (let at: ReturnType<typeof nextPosition> = { step: 0, loop: 0 }; at; at = nextPosition(p, at)) walk.push(`${at.loop}:${at.step}`);
    expect(walk).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect(totalFirings(p)).toBe(4);
  });

  it('ends after the only step when there are no repeats', () => {
    expect(nextPosition(policy(1, 0), { step: 0, loop: 0 })).toBeNull();
  });

  it('accepts user, schedule and team targets and refuses anything else with a message', () => {
    const ok = PolicyInput.safeParse({
      name: 'p',
      steps: [{ delayMinutes: 5, targets: [step.targets[0], { type: 'schedule', id: step.targets[0]!.id }, { type: 'team', id: step.targets[0]!.id }] }],
    });
    expect(ok.success).toBe(true);
    const bad = PolicyInput.safeParse({ name: 'p', steps: [{ delayMinutes: 0, targets: [] }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.message)).toEqual(['must be at least 1 minute', 'a step needs at least one target']);
  });
});
