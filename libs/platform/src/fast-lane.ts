import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CORRELATION_HEADER, currentCorrelationId, sanitizeCorrelationId, withCorrelationId, type Metrics } from '#libs/observability';
import { MAX_BODY_BYTES, errorAnswer } from './http.js';

/**
 * The fast lane: a few hot JSON routes (alert intake) answered straight from Node's HTTP server,
 * without Express's router, body parsers and Nest's per-request pipeline, which cost more CPU
 * than the work itself (alert-ingest measured half of its CPU there). A request the lane does not
 * fully understand (another method or path, a body that is not JSON) goes to Express untouched,
 * so the Nest controller for the same path stays the complete implementation and its OpenAPI
 * description; a fast route calls the same function the controller does.
 */
export interface FastRequest {
  headers: IncomingHttpHeaders;
  /** Path parameters, by the name after ':' in the route's path. */
  params: Record<string, string>;
  /** The parsed JSON body ({} when empty). */
  body: unknown;
}

export interface FastResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FastRoute {
  method: 'POST';
  /** e.g. '/v2/enqueue' or '/integrations/alertmanager/:key'. */
  path: string;
  handle(req: FastRequest): Promise<FastResponse>;
}

interface CompiledRoute {
  route: FastRoute;
  segments: string[];
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Puts the fast lane in front of the server's own request listener (Express). */
export function installFastLane(server: Server, routes: FastRoute[], metrics: Metrics, logger: Logger, limit = MAX_BODY_BYTES): void {
  if (routes.length === 0) return;
  const compiled: CompiledRoute[] = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  const fallbacks = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const found = match(req, compiled);
    if (!found) {
      for (const listener of fallbacks) listener.call(server, req, res);
      return;
    }
    serve(found.route, found.params, req, res, metrics, logger, limit);
  });
}

function match(req: IncomingMessage, routes: CompiledRoute[]): { route: FastRoute; params: Record<string, string> } | undefined {
  if (req.method !== 'POST') return undefined;
  const type = req.headers['content-type'];
  if (!type || !JSON_TYPE.test(type)) return undefined;
  // Compressed bodies are Express's to inflate.
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // a trailing slash, as Express allows
  for (const { route, segments } of routes) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const want = segments[i]!;
      const got = parts[i]!;
      if (want.startsWith(':')) {
        try {
          params[want.slice(1)] = decodeURIComponent(got);
        } catch {
          ok = false;
        }
        ok &&= got.length > 0;
      } else ok = want === got;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

function serve(
  route: FastRoute,
  params: Record<string, string>,
  req: IncomingMessage,
  res: ServerResponse,
  metrics: Metrics,
  logger: Logger,
  limit: number,
): void {
  // Entered again when the body has arrived: an emitter's callbacks do not keep the context they were registered in.
  const correlationId = sanitizeCorrelationId(req.headers[CORRELATION_HEADER]) ?? randomUUID();
  const correlated = <T>(fn: () => T): T => withCorrelationId(correlationId, fn);
  correlated(() => {
    const started = process.hrtime.bigint();
    res.setHeader(CORRELATION_HEADER, currentCorrelationId()!);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({ method: 'POST', route: route.path, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: 'POST', route: route.path }, seconds);
    });
    const tooLarge = (): void =>
      send(res, {
        status: 413,
        body: { statusCode: 413, error: 'Payload Too Large', message: `Request body is larger than ${Math.round(limit / 1024)} KB` },
        headers: { connection: 'close' },
      });
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      // Refused before reading: the rest of the body is not wanted, so the connection closes after the answer.
      tooLarge();
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
      res.destroy();
    });
    req.on('end', () =>
      correlated(() => {
        if (refused) return;
        let body: unknown = {};
        if (size > 0) {
          try {
            body = JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'));
          } catch (err) {
            send(res, { status: 400, body: { statusCode: 400, error: 'Bad Request', message: `Request body is not valid JSON: ${(err as Error).message}` } });
            return;
          }
        }
        route.handle({ headers: req.headers, params, body }).then(
          (answer) => send(res, answer),
          (err: unknown) => send(res, errorAnswer(err, logger)),
        );
      }),
    );
  });
}

function send(res: ServerResponse, { status, body, headers }: FastResponse): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
