/**
 * Errors that say "the infrastructure is not there right now" rather than "this message is bad".
 * A consumer retries these without limit (the message is fine and must not be dead-lettered while
 * PostgreSQL restarts); anything else is retried a few times and then dead-lettered.
 */
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

export function isTransientInfrastructureError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; name?: unknown; retriable?: unknown };
  if (e.driverError && isTransientInfrastructureError(e.driverError)) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (TRANSIENT_NODE_CODES.has(code)) return true;
  // PostgreSQL: connection exceptions (08), insufficient resources (53), operator intervention (57P),
  // and serialization/deadlock conflicts (40001, 40P01), which a retry resolves.
  if (/^(08|53|57P)/.test(code) || code === '40001' || code === '40P01') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) return true;
  // kafkajs marks its own retriable errors.
  if (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.retriable === true) return true;
  return false;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
