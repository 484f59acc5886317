import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ServiceProcess, SERVICES, type ServiceName } from '#libs/devstack';
import { Api, FakeFcm, FakeTwilio, REPO_ROOT, SmtpSink, TestWorld, freePort } from '#libs/testing';

/** One running copy of a service: its own process and port, sharing the service's database, consumer group and timers with its twin. */
export class Instance {
  readonly label: string;
  restarts = 0;

  constructor(
    readonly service: ServiceName,
    readonly index: number,
    readonly process: ServiceProcess,
    readonly port: number,
  ) {
    this.label = `${service}#${index + 1}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

/**
 * Two instances of every service over one Kafka broker and one PostgreSQL cluster, each service
 * behind a round-robin balancer (what a load balancer in front of replicas does: a connection
 * refused is tried on the other instance). Twilio, FCM and the mail server are local fakes.
 */
export class ChaosStack {
  readonly twilio = new FakeTwilio();
  readonly smtp = new SmtpSink();
  readonly fcm = new FakeFcm();
  readonly instances: Instance[] = [];
  readonly balancers = new Map<ServiceName, Balancer>();
  readonly world = new TestWorld();

  constructor(
    private readonly env: Record<string, string>,
    readonly logDir: string,
  ) {}

  api(service: ServiceName): Api {
    return new Api(this.balancers.get(service)!.url);
  }

  async start(replicas = 2): Promise<void> {
    await Promise.all([this.twilio.start(), this.smtp.start(), this.fcm.start()]);
    for (const service of SERVICES) {
      const balancer = await new Balancer(service).start();
      this.balancers.set(service, balancer);
      for (let i = 0; i < replicas; i++) {
        const port = await freePort();
        const extra: Record<string, string> =
          service === 'notifier'
            ? {
                SMTP_URL: this.smtp.url,
                EMAIL_FROM: 'Klaxon <pager@klaxon.test>',
                // Twilio calls back (status, replies, keypresses) through the balancer, as it would through a load balancer.
                PUBLIC_URL: balancer.url,
                // notifier logs at info why it drops a page (the audit reads it).
                LOG_LEVEL: 'info',
                ...this.twilio.env(),
                ...this.fcm.env(),
              }
            : {};
        const proc = new ServiceProcess({
          name: service,
          root: REPO_ROOT,
          env: this.world.env(service, { ...this.env, ...extra, PORT: String(port) }),
          logFile: path.join(this.logDir, `${service}-${i + 1}.log`),
        });
        const instance = new Instance(service, i, proc, port);
        this.instances.push(instance);
        balancer.upstreams.push(instance.url);
      }
    }
    // The first instance of each service migrates its database; the second starts once it has.
    await Promise.all(SERVICES.map((s) => this.of(s)[0]!.process.start()));
    await Promise.all(this.instances.filter((i) => i.index > 0).map((i) => i.process.start()));
  }

  of(service: ServiceName): Instance[] {
    return this.instances.filter((i) => i.service === service);
  }

  pids(): Map<number, string> {
    return new Map(this.instances.filter((i) => i.process.pid).map((i) => [i.process.pid!, i.label]));
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.process.stop('SIGKILL').catch(() => undefined)));
    await Promise.all([...this.balancers.values()].map((b) => b.close()));
    await Promise.all([this.twilio.stop(), this.smtp.stop(), this.fcm.stop()]);
  }
}

/** A round-robin HTTP balancer: the next instance for each request; one that refuses the connection is skipped. */
export class Balancer {
  readonly upstreams: string[] = [];
  private server?: http.Server;
  private next = 0;
  url = '';

  constructor(readonly service: ServiceName) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.forward(req, Buffer.concat(chunks), res));
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private async forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    for (let tried = 0; tried < this.upstreams.length; tried++) {
      const upstream = new URL(this.upstreams[this.next++ % this.upstreams.length]!);
      const outcome = await new Promise<'done' | 'refused'>((resolve) => {
        const out = http.request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => resolve('done'));
            answer.on('error', () => resolve('done'));
          },
        );
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && !res.headersSent) return resolve('refused');
          // The instance died with the request in hand: the sender sees what it would see behind a real balancer.
          if (!res.headersSent) res.writeHead(502).end('upstream died');
          else res.destroy();
          resolve('done');
        });
        out.end(body);
      });
      if (outcome === 'done') return;
    }
    res.writeHead(503).end('no instance answers');
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}
