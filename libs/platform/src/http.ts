import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  StandardSchemaValidationPipe,
  type ExceptionFilter,
  type ArgumentMetadata,
} from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { throwError } from 'rxjs';
import type { Logger } from 'pino';
import { CORRELATION_HEADER, currentCorrelationId, sanitizeCorrelationId, withCorrelationId, type Metrics } from '#libs/observability';
import { DomainError } from './errors.js';
import type { FastResponse } from './fast-lane.js';

/** Request bodies above this are refused with 413 before they are read into memory. */
export const MAX_BODY_BYTES = 512 * 1024;

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

/**
 * JSON, form (Twilio) and text (AWS SNS) parsers with a size cap. The raw bytes are kept for
 * signature checks (Grafana HMAC, SNS). Parser errors are answered here as JSON, with a message
 * the sender can act on, instead of Express's HTML page.
 */
export function bodyParsers(limit = MAX_BODY_BYTES): (express.RequestHandler | express.ErrorRequestHandler)[] {
  const keepRaw = (req: Request, _res: Response, buf: Buffer): void => {
    (req as RawBodyRequest).rawBody = buf;
  };
  return [
    express.json({ limit, verify: keepRaw, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ limit, extended: false, verify: keepRaw }),
    express.text({ limit, verify: keepRaw, type: 'text/plain' }),
    // No body at all reads as {} so optional-body endpoints validate like empty objects.
    (req: Request, _res: Response, next: NextFunction): void => {
      if (req.body === undefined) req.body = {};
      next();
    },
    (err: unknown, req: Request, res: Response, next: NextFunction): void => {
      const e = err as { type?: string; status?: number; message?: string };
      if (e?.type === 'entity.too.large') {
        res.status(413).json({ statusCode: 413, error: 'Payload Too Large', message: `Request body is larger than ${Math.round(limit / 1024)} KB` });
      } else if (e?.type === 'entity.parse.failed') {
        res.status(400).json({ statusCode: 400, error: 'Bad Request', message: `Request body is not valid JSON: ${e.message ?? 'parse error'}` });
      } else if (e?.status && e.status >= 400 && e.status < 500) {
        res.status(e.status).json({ statusCode: e.status, error: 'Bad Request', message: e.message ?? 'Request body could not be read' });
      } else {
        next(err);
      }
    },
  ];
}

/** Correlation id in and out, request metrics, and one access-log line per request. */
export function requestContext(metrics: Metrics, logger: Logger): express.RequestHandler {
  return (req, res, next) => {
    const correlationId = sanitizeCorrelationId(req.headers[CORRELATION_HEADER]);
    withCorrelationId(correlationId, () => {
      res.setHeader(CORRELATION_HEADER, currentCorrelationId()!);
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        // Route templates only: a path a sender made up (or an integration key in it) never becomes a label.
        const route = (req.route?.path as string | undefined) ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
        metrics.httpDuration.observe({ method: req.method, route }, seconds);
        if (route !== '/metrics' && !route.startsWith('/health')) {
          logger.debug({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'http');
        }
      });
      next();
    });
  };
}

/**
 * Turns every error into a JSON answer: domain errors and Nest's HTTP exceptions keep their status
 * and message; anything unexpected becomes a 500 that names the correlation id and is logged.
 * In event handlers (rpc) the original error is passed on, so the consumer can tell a transient
 * failure from a bad message.
 */
@Catch()
export class KlaxonExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType() !== 'http') return throwError(() => exception);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const answer = errorAnswer(exception, this.logger);
    res.status(answer.status).json(answer.body);
  }
}

/**
 * For a Nest handler with `@Res({ passthrough: true })` that computed a fast-lane answer: sets its
 * status and headers and returns its body for Nest to send.
 */
export function answerWith(res: Response, answer: FastResponse): unknown {
  res.status(answer.status);
  for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
  return answer.body;
}

/**
 * The JSON answer to an error: domain errors and HTTP exceptions keep their status and message;
 * anything unexpected is logged and becomes a 500 naming the correlation id.
 */
export function errorAnswer(exception: unknown, logger: Logger): FastResponse {
  if (exception instanceof DomainError) {
    const { status, message, details } = exception;
    return { status, body: { statusCode: status, error: httpErrorName(status), message, ...(details !== undefined ? { details } : {}) } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    return {
      status,
      body:
        typeof body === 'string'
          ? { statusCode: status, error: httpErrorName(status), message: body }
          : { statusCode: status, error: httpErrorName(status), ...body },
    };
  }
  logger.error({ err: exception }, 'unhandled error in request');
  return {
    status: 500,
    body: {
      statusCode: 500,
      error: 'Internal Server Error',
      message: `Something went wrong on our side and it has been logged (correlation id ${currentCorrelationId() ?? 'unknown'})`,
    },
  };
}

const NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

export function httpErrorName(status: number): string {
  return NAMES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

/**
 * Text PostgreSQL cannot store (NUL) or that is not Unicode (a lone UTF-16 surrogate): a 400 naming
 * the field, before any handler sees it. Management APIs refuse it; senders' intake, which parses
 * its own bodies, keeps its rule instead (NULs dropped, lone surrogates replaced: nothing a
 * monitoring tool sends is lost).
 */
export function unstorableText(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return `${path.join('.') || 'value'}: contains a NUL character, which cannot be stored`;
    if (!(value as string & { isWellFormed(): boolean }).isWellFormed())
      return `${path.join('.') || 'value'}: contains an unpaired UTF-16 surrogate (not valid Unicode)`;
    return undefined;
  }
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = unstorableText(k, [...path, '(a key)'], depth + 1) ?? unstorableText(v, [...path, k], depth + 1);
    if (found) return found;
  }
  return undefined;
}

class KlaxonValidationPipe extends StandardSchemaValidationPipe {
  override async transform<T = unknown>(value: T, metadata: ArgumentMetadata): Promise<T> {
    if ((metadata as { schema?: unknown }).schema) {
      const problem = unstorableText(value);
      if (problem) throw new BadRequestException({ message: `Request is invalid: ${problem}`, errors: [problem] });
    }
    return super.transform(value, metadata);
  }
}

/** Validates `@Body({ schema })`, `@Query({ schema })` and `@Param(…, { schema })` with zod (Standard Schema). */
export function validationPipe(): StandardSchemaValidationPipe {
  return new KlaxonValidationPipe({
    exceptionFactory: (issues) =>
      new BadRequestException({
        message: `Request is invalid: ${issues
          .slice(0, 10)
          .map((i) => `${formatPath(i.path)}${i.message}`)
          .join('; ')}`,
        errors: issues.map((i) => `${formatPath(i.path)}${i.message}`),
      }),
  });
}

function formatPath(path: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined): string {
  if (!path || path.length === 0) return '';
  return `${path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: `;
}

/**
 * Every request with a body must have sent all of it within `ms` of its start, whichever route it
 * is for (the fast lane included): otherwise it is answered 408 and its connection closed, so a
 * sender trickling a body byte by byte cannot hold the connection for Node's default five minutes.
 */
export function installBodyTimeout(server: Server, ms: number): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)) return;
    const timer = setTimeout(() => {
      if (req.complete) return;
      if (!res.headersSent) {
        res.writeHead(408, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ statusCode: 408, error: 'Request Timeout', message: `The request body did not arrive within ${ms / 1000} s` }));
      }
      req.socket.destroySoon();
    }, ms);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
    res.once('finish', clear);
  });
}
