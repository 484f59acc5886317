import { Wakeup } from './listener.js';
import { isTransientInfrastructureError } from './errors.js';

describe('Wakeup', () => {
  it('wakes every waiter at once', async () => {
    const w = new Wakeup();
    const started = Date.now();
    const waits = [w.wait(10_000), w.wait(10_000), w.wait(10_000)];
    setTimeout(w.wake, 20);
    await Promise.all(waits);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('remembers a wake that came while nobody waited, once', async () => {
    const w = new Wakeup();
    w.wake();
    const started = Date.now();
    await w.wait(10_000);
    expect(Date.now() - started).toBeLessThan(1000);
    let second = false;
    void w.wait(50).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBe(false);
  });
});

describe('transient infrastructure errors', () => {
  it('tells "PostgreSQL is down" from "this message is bad"', () => {
    expect(isTransientInfrastructureError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientInfrastructureError({ driverError: { code: '57P01' } })).toBe(true);
    expect(isTransientInfrastructureError({ code: '40P01', message: 'deadlock detected' })).toBe(true);
    expect(isTransientInfrastructureError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientInfrastructureError({ code: '23505', message: 'duplicate key' })).toBe(false);
    expect(isTransientInfrastructureError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
  });
});
