import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { answerWith, httpErrorName, type FastResponse } from '#libs/platform';
import { IntegrationKeyError } from './integration-keys.js';
import { RateLimitedError } from './rate-limit.js';

/**
 * How a sender hears "not now" or "not you": the status senders act on (401/403 final, 429 and
 * 503 retried later with Retry-After) and a message, in the shape each sender expects.
 */
export type SenderErrorBody = (status: number, message: string, errors?: string[]) => unknown;

export const plainError: SenderErrorBody = (status, message, errors) => ({
  statusCode: status,
  error: httpErrorName(status),
  message,
  ...(errors ? { errors } : {}),
});

/** The answer to a sender for an error, or undefined for an error that is not the sender's to hear about. */
export function senderErrorAnswer(format: SenderErrorBody, exception: unknown): FastResponse | undefined {
  if (exception instanceof IntegrationKeyError) return { status: exception.status, body: format(exception.status, exception.message) };
  if (exception instanceof RateLimitedError) {
    return { status: 429, body: format(429, exception.message), headers: { 'retry-after': String(exception.retryAfterSeconds) } };
  }
  if (!(exception instanceof HttpException)) return undefined;
  const status = exception.getStatus();
  const body = exception.getResponse();
  const message = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
  const errors = typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors) ? (body as { errors: string[] }).errors : undefined;
  const headers: Record<string, string> = status === 503 ? { 'retry-after': String((body as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1) } : {};
  return { status, body: format(status, message, errors), headers };
}

/** A sender's request in the fast lane: its answer, or the sender-shaped answer to its error. */
export async function answerSender(format: SenderErrorBody, work: () => Promise<FastResponse>): Promise<FastResponse> {
  try {
    return await work();
  } catch (err) {
    const answer = senderErrorAnswer(format, err);
    if (answer) return answer;
    throw err;
  }
}

export function senderErrorFilter(format: SenderErrorBody): new () => ExceptionFilter {
  @Catch(IntegrationKeyError, RateLimitedError, HttpException)
  class SenderErrorFilter implements ExceptionFilter {
    catch(exception: unknown, host: ArgumentsHost): void {
      const res = host.switchToHttp().getResponse<Response>();
      if (res.headersSent) return;
      res.json(answerWith(res, senderErrorAnswer(format, exception)!));
    }
  }
  return SenderErrorFilter;
}
