import { QueryFailedError } from 'typeorm';
import { createLogger } from './logger.js';

describe('logs', () => {
  function capture(): { lines: string[]; stream: { write(s: string): void } } {
    const lines: string[] = [];
    return { lines, stream: { write: (s: string) => void lines.push(s) } };
  }

  it('log a failed database write by its query and code, never its parameters or the values it quotes', () => {
    const { lines, stream } = capture();
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "users_email"'), {
      code: '23505',
      detail: 'Key (lower(email))=(dana@example.com) already exists.',
      constraint: 'users_email',
    });
    const err = new QueryFailedError('INSERT INTO users (id, email, phone) VALUES ($1, $2, $3)', ['u1', 'dana@example.com', '+14155550123'], driverError);
    createLogger('test', 'info', stream).error({ err }, 'unhandled error in request');
    const line = lines.join('');
    expect(line).toContain('users_email');
    expect(line).toContain('INSERT INTO users');
    expect(line).not.toContain('dana@example.com');
    expect(line).not.toContain('+14155550123');
  });

  it('redact secrets by name wherever they sit in a log line', () => {
    const { lines, stream } = capture();
    createLogger('test', 'info', stream).info(
      { body: { password: 'hunter2hunter2', token: 'tok_abc' }, req: { headers: { authorization: 'Bearer x.y.z' } } },
      'x',
    );
    expect(lines.join('')).not.toMatch(/hunter2|tok_abc|x\.y\.z/);
  });
});
