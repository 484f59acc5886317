import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { portOpen, startKafka, stopKafka } from '../../deploy/local/runtime.js';
import { Api, REPO_ROOT, TEST_ADMIN_TOKEN, TestWorld, createPagingWorld, eventually, freePort, pdTrigger, queryDb, runServiceOnce } from '#libs/testing';
import { oncallService } from '../../apps/oncall/src/service.js';
import { ingestService } from '../../apps/alert-ingest/src/service.js';
import net from 'node:net';

describe('operations: configuration errors, health, and Kafka outages', () => {
  const world = new TestWorld();
  afterAll(() => world.close());

  it('stops a service with one clear line naming a bad variable', () => {
    const env = world.env('oncall', { KAFKA_BROKERS: 'kafka-without-port' });
    const res = runServiceOnce('oncall', env);
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      'oncall: configuration error: KAFKA_BROKERS is invalid: must be a comma-separated list of host:port, e.g. 127.0.0.1:9092 (got "kafka-without-port")',
    ]);
  });

  it('names a missing variable, and never prints a secret it rejects', () => {
    const { DATABASE_URL: _, ...withoutDb } = world.env('incidents');
    const missing = runServiceOnce('incidents', withoutDb);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe('incidents: configuration error: DATABASE_URL is missing');

    const short = runServiceOnce('notifier', world.env('notifier', { AUTH_SECRET: 'hunter2-too-short' }));
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('AUTH_SECRET is invalid: must be at least 32 characters');
    expect(short.stderr).not.toContain('hunter2');
  });

  it('answers 408 and closes the connection when a body trickles in slower than HTTP_BODY_TIMEOUT_SECONDS, on fast-lane and Express routes', async () => {
    const svc = await world.start(ingestService, { env: { HTTP_BODY_TIMEOUT_SECONDS: '1' } });
    const port = Number(new URL(svc.api.url).port);
    /** Sends the headers and the start of a 100-byte body, then nothing: what comes back before the server hangs up. */
    const stall = (path: string, headers = ''): Promise<string> =>
      new Promise((resolve, reject) => {
        let got = '';
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n${headers}\r\n{"rout`),
        );
        socket.on('data', (d) => (got += d.toString()));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
    for (const answer of await Promise.all([stall('/v2/enqueue'), stall('/api/v1/integrations', `Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n`)])) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('The request body did not arrive within 1 s');
    }
    // A whole request is answered as ever.
    expect((await svc.api.get('/health/live')).status).toBe(200);
    await svc.close();
  });

  it('reports not ready while Kafka is unreachable, and live all the same', async () => {
    const svc = await world.start(oncallService, { env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    const ready = await svc.api.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('ok');
    expect(ready.body.checks.kafka).toMatch(/^unreachable/);
    expect(ready.body.message).toMatch(/^kafka: unreachable/);
    expect((await svc.api.get('/health/live')).status).toBe(200);
    const metrics = await svc.api.get('/metrics');
    expect(metrics.body).toContain('klaxon_outbox_pending');
    await svc.close();
  });

  it('drains the outbox on a graceful stop: nothing accepted is left behind', async () => {
    const [ingest, oncall] = await Promise.all([world.spawn('alert-ingest'), world.spawn('oncall')]);
    const setup = await createPagingWorld(oncall.api, ingest.api);
    const tap = await world.tap('alerts');
    const sender = new Api(ingest.url, null);
    await Promise.all(Array.from({ length: 30 }, (_, i) => sender.post('/v2/enqueue', pdTrigger(setup.routingKey, `drain-${i}`))));
    expect(await ingest.stop('SIGTERM')).toBe(0);
    const left = await queryDb(world.databaseUrl('alert-ingest'), 'SELECT count(*)::int AS n FROM outbox');
    expect(left).toEqual([{ n: 0 }]);
    await eventually(async () => tap.ofType('alert.triggered').length === 30, { what: '30 events on Kafka' });
  });

  it('stops a service by itself when the process that started it is killed, and frees its port', async () => {
    // A supervisor, as `npm start` is: it starts alert-ingest, then dies with SIGKILL (a closed terminal, an OOM kill).
    const devstack = pathToFileURL(path.join(REPO_ROOT, 'dist/libs/devstack/src/index.js')).href;
    const logFile = path.join(REPO_ROOT, '.klaxon/test-logs', world.infra.runId, `${world.id}-orphan-alert-ingest.log`);
    const script = `
      const { ServiceProcess } = await import(${JSON.stringify(devstack)});
      const p = new ServiceProcess({ name: 'alert-ingest', root: ${JSON.stringify(REPO_ROOT)}, env: JSON.parse(process.env.SERVICE_ENV), logFile: ${JSON.stringify(logFile)} });
      await p.start();
      console.log(JSON.stringify({ pid: p.pid, port: p.port }));
      setInterval(() => {}, 1000);`;
    const supervisor = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH!, SERVICE_ENV: JSON.stringify(world.env('alert-ingest')) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
      let out = '';
      supervisor.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      supervisor.once('exit', (code) => reject(new Error(`the supervisor exited (${code}) before the service listened`)));
    });
    expect(await portOpen(started.port)).toBe(true);
    supervisor.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await eventually(async () => !alive(started.pid), { what: 'alert-ingest to stop after its supervisor died', timeoutMs: 30000 });
    expect(await portOpen(started.port)).toBe(false);
  });

  it('accepts alerts while Kafka is down and delivers them once it is back', async () => {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const kafka = await startKafka({ port, controllerPort, fresh: true });
    const outage = new TestWorld();
    try {
      const env = { KAFKA_BROKERS: kafka.brokers };
      const [ingest, oncall, incidents] = await Promise.all([outage.spawn('alert-ingest', env), outage.spawn('oncall', env), outage.spawn('incidents', env)]);
      const setup = await createPagingWorld(oncall.api, ingest.api);
      await stopKafka({ port });
      await eventually(async () => (await ingest.api.get('/health/ready')).status === 503, { what: 'not ready without Kafka' });
      // Alerts are durable in PostgreSQL: the sender gets its 202 while Kafka is away.
      for (const key of ['a', 'b', 'c']) {
        expect((await new Api(ingest.url, null).post('/v2/enqueue', pdTrigger(setup.routingKey, key))).status).toBe(202);
      }
      await startKafka({ port, controllerPort });
      const list = await eventually(
        async () => {
          const res = await incidents.api.get('/api/v1/incidents');
          return res.body.length === 3 ? res.body : undefined;
        },
        // About 10 s on a quiet machine. Generous all the same: after a broker restart the clients
        // back off (up to 5 s a step) and the group waits out its old session. Until the transport
        // replaced consumers that kafkajs gave up on (group coordinator not found), this never came.
        { what: 'three incidents after Kafka returned', timeoutMs: 150000 },
      );
      expect(list.map((i: { title: string }) => i.title).sort()).toEqual(['Alert a', 'Alert b', 'Alert c']);
    } finally {
      await outage.close();
      await stopKafka({ port, removeData: true });
    }
  }, 240000);
});
