import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { portOpen } from '../../deploy/local/runtime.js';
import { REPO_ROOT, eventually, freePort, testInfra } from '#libs/testing';

/**
 * The README's promise, checked as a new user would: `npm start` brings the stack up and prints a
 * curl; that curl gives a page in the inbox within seconds; Ctrl-C stops everything it started.
 */
/**
 * Four consecutive free ports below the kernel's ephemeral range: a port inside it can be taken by
 * any outgoing connection (the services' own, to Kafka and PostgreSQL) between start's check and
 * the service's listen, which once failed this test with EADDRINUSE.
 */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    const taken = await Promise.all([0, 1, 2, 3].map((i) => portOpen(base + i)));
    if (!taken.some(Boolean)) return base;
  }
}

describe('the start command', () => {
  it('starts the stack, pages the demo user from the printed curl, and stops everything on Ctrl-C', async () => {
    const infra = testInfra();
    const base = await freeBase();
    const [kafkaPort, controllerPort] = [await freePort(), await freePort()];
    const home = path.join(REPO_ROOT, '.klaxon/test-start', infra.runId);
    const child = spawn(process.execPath, ['scripts/start.js'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KLAXON_HOME: home,
        KLAXON_PORT_BASE: String(base),
        KAFKA_PORT: String(kafkaPort),
        KAFKA_CONTROLLER_PORT: String(controllerPort),
        KLAXON_DB_PREFIX: `klx_${infra.runId}_start`,
        DATABASE_URL: `${infra.pgBase}/postgres`,
        LOG_LEVEL: 'warn',
        // The suite has its dependencies: never npm ci under the tests still running.
        KLAXON_SKIP_DEPS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    child.stderr.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let up = false;
      await Promise.race([
        eventually(async () => out.includes('Press Ctrl-C to stop everything.'), { timeoutMs: 100000, what: `the stack to start; output so far:\n${out}` }),
        exited.then((code) => (up ? undefined : Promise.reject(new Error(`npm start exited (${code}) before the stack was up:\n${out}`)))),
      ]);
      up = true;

      const curl = /curl -sS -X POST (\S+) -H 'Content-Type: application\/json' \\\n\s+-d '(.+)'/.exec(out);
      expect(curl).not.toBeNull();
      const inboxUrl = /read the page in the inbox: (\S+)/.exec(out)![1]!;
      const res = await fetch(curl![1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl![2]! });
      expect(res.status).toBe(202);

      const inbox = inboxUrl.replace(/\/inbox$/, '/api/v1/inbox');
      const page = await eventually(
        async () => {
          const messages = (await (await fetch(inbox)).json()) as {
            subject: string | null;
            destination: string;
            meta: { actions?: { label: string; url: string }[] };
          }[];
          return messages.find((m) => m.subject?.includes('Disk full on db1'));
        },
        { what: 'the demo page in the inbox', timeoutMs: 20000 },
      );
      expect(page.destination).toBe('dana.demo@klaxon.local');
      expect((await fetch(inboxUrl)).headers.get('content-type')).toContain('text/html');

      // Answering it there acknowledges the incident: the link asks first, the confirmation acts.
      const ack = page.meta.actions!.find((a) => a.label === 'Acknowledge')!.url;
      expect((await fetch(ack)).status).toBe(200);
      expect((await fetch(ack, { method: 'POST' })).status).toBe(200);
      const [, incidentsUrl, token] = /Incidents:\s+curl -sS (\S+) -H 'Authorization: Bearer (\S+)'/.exec(out)!;
      await eventually(
        async () => {
          const list = (await (await fetch(incidentsUrl!, { headers: { authorization: `Bearer ${token}` } })).json()) as { title: string; status: string }[];
          return list.find((i) => i.title === 'Disk full on db1' && i.status === 'acknowledged');
        },
        { what: 'the incident acknowledged from the inbox', timeoutMs: 20000 },
      );

      // Oncall's calendar feed URLs point at oncall itself (each service has its own PUBLIC_URL).
      const oncall = `http://localhost:${base + 1}`;
      const auth = { authorization: `Bearer ${token}` };
      const users = (await (await fetch(`${oncall}/api/v1/users`, { headers: auth })).json()) as { id: string; email: string }[];
      const dana = users.find((u) => u.email === 'dana.demo@klaxon.local')!;
      const feed = (await (await fetch(`${oncall}/api/v1/users/${dana.id}/feed`, { method: 'POST', headers: auth })).json()) as { url: string };
      expect(feed.url.startsWith(`${oncall}/ical/users/`)).toBe(true);
      const ics = await fetch(feed.url);
      expect(ics.status).toBe(200);
      expect(await ics.text()).toContain('BEGIN:VCALENDAR');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('Stopped.');
    for (const port of [base, base + 1, base + 2, base + 3, kafkaPort]) expect(await portOpen(port)).toBe(false);
    fs.rmSync(home, { recursive: true, force: true });
  });
});
