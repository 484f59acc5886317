import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import { cert, deleteApp, initializeApp, type App, type Credential, type GoogleOAuthAccessToken } from 'firebase-admin/app';
import { importPKCS8, SignJWT } from 'jose';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import { classifyNetworkError, ProviderError, type PushMessage, type PushProvider, type ReconcileResult } from './provider.js';

export interface FcmSettings {
  /** The service account key: its JSON, or the path of its file. */
  serviceAccount: string;
  /** Route firebase-admin's HTTPS (OAuth token and FCM send) to this host: a proxy or a local test server. */
  apiUrl?: string;
}

/**
 * firebase-admin always calls https://fcm.googleapis.com and https://oauth2.googleapis.com; its
 * `httpAgent` option is the hook for proxies. This agent opens its connections to one other host
 * instead (plain TCP for http://, TLS for https://), leaving the SDK's requests untouched.
 */
class RedirectAgent extends http.Agent {
  constructor(private readonly target: URL) {
    super({ keepAlive: true });
    // https.request checks the agent's protocol against the URL's.
    (this as unknown as { protocol: string }).protocol = 'https:';
  }

  // Returning the socket is enough: the agent uses a socket returned synchronously.
  override createConnection(): net.Socket {
    const port = Number(this.target.port || (this.target.protocol === 'https:' ? 443 : 80));
    return this.target.protocol === 'https:'
      ? tls.connect({ host: this.target.hostname, port, servername: this.target.hostname })
      : net.connect(port, this.target.hostname);
  }
}

interface ServiceAccountKey {
  project_id: string;
  private_key: string;
  private_key_id?: string;
  client_email: string;
  token_uri?: string;
}

function loadServiceAccount(value: string): ServiceAccountKey {
  const text = value.trim().startsWith('{') ? value : fs.readFileSync(value, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('FCM_SERVICE_ACCOUNT is neither a service account JSON nor the path of one');
  }
}

/**
 * The service account's OAuth2 token grant (RFC 7523 JWT bearer), through the same redirecting
 * agent: firebase-admin's own `cert()` credential ignores `httpAgent` for its token request, so
 * behind FCM_API_URL it could never get a token.
 */
class RedirectedServiceAccountCredential implements Credential {
  constructor(
    private readonly account: ServiceAccountKey,
    private readonly agent: http.Agent,
  ) {}

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const tokenUri = this.account.token_uri ?? 'https://oauth2.googleapis.com/token';
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: 'https://www.googleapis.com/auth/firebase.messaging https://www.googleapis.com/auth/cloud-platform' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.account.private_key_id ? { kid: this.account.private_key_id } : {}) })
      .setIssuer(this.account.client_email)
      .setAudience(tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(await importPKCS8(this.account.private_key, 'RS256'));
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        tokenUri,
        { method: 'POST', agent: this.agent, timeout: 15000, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`token endpoint answered ${res.statusCode}: ${text.slice(0, 200)}`))));
        },
      );
      req.on('timeout', () => req.destroy(new Error('token request timed out')));
      req.on('error', reject);
      req.end(form);
    });
    const token = JSON.parse(body) as GoogleOAuthAccessToken;
    return { access_token: token.access_token, expires_in: token.expires_in };
  }
}

/** FCM error codes that mean this device will never receive: forget its token. */
const GONE = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token', 'messaging/mismatched-credential']);
// UNAVAILABLE (503) and quota errors mean FCM did not take the message: retry with backoff, as Google advises.
const NOT_SENT = new Set([
  'messaging/quota-exceeded',
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/server-unavailable',
]);
const UNKNOWN = new Set(['messaging/internal-error', 'messaging/unknown-error', 'app/network-timeout', 'app/network-error']);

export function classifyFcmError(err: unknown): ProviderError {
  const code = (err as { code?: string })?.code ?? '';
  const message = `FCM ${code}: ${(err as Error)?.message ?? String(err)}`;
  if (GONE.has(code)) return new ProviderError(message, 'permanent', { invalidDestination: true });
  if (NOT_SENT.has(code)) return new ProviderError(message, 'not-sent');
  if (UNKNOWN.has(code)) return new ProviderError(message, 'unknown');
  if (code.startsWith('messaging/')) return new ProviderError(message, 'permanent');
  return classifyNetworkError(err);
}

/**
 * Push through Firebase Cloud Messaging (Android and iOS): high priority, a data payload with the
 * incident and its action links, and iOS time-sensitive (or critical) interruption level.
 */
export class FcmPushProvider implements PushProvider {
  readonly name = 'fcm';
  readonly channel = 'push';
  private readonly app: App;
  private readonly messaging: Messaging;

  constructor(settings: FcmSettings) {
    const account = loadServiceAccount(settings.serviceAccount);
    const agent = settings.apiUrl ? new RedirectAgent(new URL(settings.apiUrl)) : undefined;
    const credential = agent
      ? new RedirectedServiceAccountCredential(account, agent)
      : cert({ projectId: account.project_id, clientEmail: account.client_email, privateKey: account.private_key });
    this.app = initializeApp({ credential, projectId: account.project_id, httpAgent: agent }, `klaxon-${randomUUID()}`);
    this.messaging = getMessaging(this.app);
  }

  async send(m: PushMessage): Promise<{ providerMessageId: string }> {
    try {
      return { providerMessageId: await this.messaging.send(toFcmMessage(m)) };
    } catch (err) {
      throw classifyFcmError(err);
    }
  }

  /** FCM cannot be asked whether a message went out: unknown, not resent (the next rule is the cover). */
  async reconcile(): Promise<ReconcileResult> {
    return { outcome: 'unknown' };
  }

  async close(): Promise<void> {
    await deleteApp(this.app);
  }
}

export function toFcmMessage(m: PushMessage): Message {
  const high = m.urgency === 'high';
  return {
    token: m.token,
    notification: { title: m.title, body: m.body },
    data: m.data,
    android: {
      priority: high ? 'high' : 'normal',
      ttl: 3_600_000,
      collapseKey: m.data.incidentId,
      notification: {
        channelId: high ? 'klaxon-high-urgency' : 'klaxon-low-urgency',
        priority: high ? 'max' : 'default',
        sound: 'default',
        tag: m.data.incidentId,
      },
    },
    apns: {
      headers: { 'apns-priority': high ? '10' : '5', 'apns-push-type': 'alert', ...(m.data.incidentId ? { 'apns-collapse-id': m.data.incidentId } : {}) },
      payload: {
        aps: {
          sound: m.critical && high ? { critical: true, name: 'default', volume: 1 } : 'default',
          'interruption-level': m.critical && high ? 'critical' : high ? 'time-sensitive' : 'active',
          category: 'KLAXON_PAGE',
          threadId: m.data.incidentId,
        },
      },
    },
  };
}
