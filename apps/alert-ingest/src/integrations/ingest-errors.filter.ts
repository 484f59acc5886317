import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { httpErrorName } from '#libs/platform';
import { IntegrationKeyError } from './integration-keys.js';
import { RateLimitedError } from './rate-limit.js';

/**
 * How a sender hears "not now" or "not you": the status senders act on (401/403 final, 429 and
 * 503 retried later with Retry-After) and a message, in the shape each sender expects.
 */
export type SenderErrorBody = (status: number, message: string, errors?: string[]) => unknown;

export const plainError: SenderErrorBody = (status, message, errors) => ({ statusCode: status, error: httpErrorName(status), message, ...(errors ? { errors } : {}) });

export function senderErrorFilter(format: SenderErrorBody): new () => ExceptionFilter {
  @Catch(IntegrationKeyError, RateLimitedError, HttpException)
  class SenderErrorFilter implements ExceptionFilter {
    catch(exception: unknown, host: ArgumentsHost): void {
      const res = host.switchToHttp().getResponse<Response>();
      if (res.headersSent) return;
      if (exception instanceof IntegrationKeyError) {
        res.status(exception.status).json(format(exception.status, exception.message));
      } else if (exception instanceof RateLimitedError) {
        res.setHeader('Retry-After', String(exception.retryAfterSeconds));
        res.status(429).json(format(429, exception.message));
      } else {
        const e = exception as HttpException;
        const status = e.getStatus();
        const body = e.getResponse();
        const message = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? e.message);
        const errors = typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors) ? ((body as { errors: string[] }).errors) : undefined;
        if (status === 503) res.setHeader('Retry-After', String((body as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
        res.status(status).json(format(status, message, errors));
      }
    }
  }
  return SenderErrorFilter;
}
