import http from 'node:http';
import type Provider from 'oidc-provider';

export interface OidcAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/**
 * A real OpenID Connect identity provider (node-oidc-provider) on this machine, standing in for
 * Okta, Entra ID or Keycloak. Its login page is skipped: whoever `signInAs` names is signed in and
 * consents, so a test drives single sign-on end to end through redirects alone.
 */
export class LocalOidcProvider {
  private server?: http.Server;
  private next?: string;
  readonly clientId = 'klaxon';
  readonly clientSecret = 'local-oidc-client-secret-for-tests';

  constructor(
    private readonly port: number,
    private readonly accounts: Record<string, OidcAccount>,
  ) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Who the next sign-in at this provider is (an account id of `accounts`). */
  signInAs(accountId: string): void {
    this.next = accountId;
  }

  async start(redirectUris: string[]): Promise<void> {
    const accounts = this.accounts;
    // Loaded when a test starts one, not by every test that imports libs/testing.
    const { default: OidcProvider } = (await import('oidc-provider')) as { default: typeof Provider };
    const provider = new OidcProvider(this.issuer, {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: redirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      findAccount: async (_ctx, id) => (accounts[id] ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) } : undefined),
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      conformIdTokenClaims: false,
      cookies: { keys: ['local-oidc-cookie-key-for-tests'] },
    });
    const handle = provider.callback();
    this.server = http.createServer((req, res) => {
      if (!req.url?.startsWith('/interaction/')) return void handle(req, res);
      void (async () => {
        const details = await provider.interactionDetails(req, res);
        const accountId = this.next ?? Object.keys(accounts)[0]!;
        const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      })().catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Follows redirects as a browser would, keeping each host's cookies; answers the first page that is not a redirect. */
export async function browse(url: string, maxHops = 20): Promise<{ status: number; url: string; body: any }> {
  const jar = new Map<string, Map<string, string>>();
  let current = new URL(url);
  for (let hop = 0; hop < maxHops; hop++) {
    const cookies = jar.get(current.host);
    const res = await fetch(current, {
      redirect: 'manual',
      headers: cookies?.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (!jar.has(current.host)) jar.set(current.host, new Map());
      jar.get(current.host)!.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      current = new URL(location, current);
      await res.arrayBuffer();
      continue;
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, url: current.toString(), body };
  }
  throw new Error(`more than ${maxHops} redirects from ${url}`);
}
