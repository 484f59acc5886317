import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * A local stand-in for Google's OAuth token endpoint and FCM's HTTP v1 send endpoint, which the
 * real firebase-admin SDK reaches through FCM_API_URL. It checks the bearer token it issued, records
 * every message, and can answer for a device as FCM does when the app was uninstalled.
 */
export interface FcmSend {
  name: string;
  projectId: string;
  message: {
    token: string;
    notification?: { title?: string; body?: string };
    data?: Record<string, string>;
    android?: { priority?: string; notification?: Record<string, unknown> };
    apns?: { headers?: Record<string, string>; payload?: { aps?: Record<string, unknown> } };
  };
}

export class FakeFcm {
  readonly projectId = 'klaxon-test';
  readonly sends: FcmSend[] = [];
  /** Send requests that reached this server, delivered or not. */
  sendRequests = 0;
  readonly tokenRequests: number[] = [];
  private readonly accessToken = `ya29.${randomBytes(12).toString('hex')}`;
  private readonly unregistered = new Set<string>();
  private refusals = 0;
  private server?: http.Server;
  url = '';
  /** A service account key as Google issues them (a fresh RSA key; only its shape matters here). */
  readonly serviceAccount = JSON.stringify({
    type: 'service_account',
    project_id: this.projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `firebase-adminsdk@${this.projectId}.iam.gserviceaccount.com`,
    client_id: '1234567890',
    token_uri: 'https://oauth2.googleapis.com/token',
  });

  env(): Record<string, string> {
    return { FCM_SERVICE_ACCOUNT: this.serviceAccount, FCM_API_URL: this.url };
  }

  /** FCM will answer for this token as for an app that was uninstalled (404 UNREGISTERED). */
  unregister(token: string): void {
    this.unregistered.add(token);
  }

  /** The next `times` sends are refused as over quota (429 RESOURCE_EXHAUSTED / QUOTA_EXCEEDED): nothing delivered. */
  refuseNext(times: number): void {
    this.refusals += times;
  }

  to(token: string): FcmSend[] {
    return this.sends.filter((s) => s.message.token === token);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => this.handle(req, body, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(payload));
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path.endsWith('/token')) {
      this.tokenRequests.push(Date.now());
      return send(200, { access_token: this.accessToken, expires_in: 3599, token_type: 'Bearer' });
    }
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (req.method !== 'POST' || !m || (req.headers.host ?? '').replace(/:443$/, '') !== 'fcm.googleapis.com')
      return send(404, { error: { code: 404, message: `not found: ${req.headers.host}${path}`, status: 'NOT_FOUND' } });
    if (req.headers.authorization !== `Bearer ${this.accessToken}`)
      return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    const { message } = JSON.parse(body) as { message: FcmSend['message'] };
    this.sendRequests += 1;
    if (this.refusals > 0) {
      this.refusals -= 1;
      return send(429, {
        error: {
          code: 429,
          message: 'Quota exceeded for quota metric',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'QUOTA_EXCEEDED' }],
        },
      });
    }
    if (this.unregistered.has(message.token)) {
      return send(404, {
        error: {
          code: 404,
          message: 'Requested entity was not found.',
          status: 'NOT_FOUND',
          details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }],
        },
      });
    }
    const name = `projects/${m[1]}/messages/${randomBytes(8).toString('hex')}`;
    this.sends.push({ name, projectId: m[1]!, message });
    send(200, { name });
  }
}
