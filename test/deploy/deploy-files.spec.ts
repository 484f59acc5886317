import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '#libs/config';
import { newSigningKeys } from '#libs/testing';
import { ingestService } from '../../apps/alert-ingest/src/service.js';
import { incidentsService } from '../../apps/incidents/src/service.js';
import { notifierService } from '../../apps/notifier/src/service.js';
import { oncallService } from '../../apps/oncall/src/service.js';

/**
 * The deployment files are code too: every service they run must get an environment its own
 * schema accepts, so a new required variable cannot be forgotten in docker-compose.yml or the
 * Kubernetes manifests.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const services = { 'alert-ingest': ingestService, oncall: oncallService, notifier: notifierService, incidents: incidentsService };

/** What an operator creates before the first start, as the deploy docs say (openssl rand -base64 48). */
const operatorSecret = (): string => randomBytes(36).toString('base64');
/** What `npm run keys` prints, as an operator would set it. */
const keys = newSigningKeys('operator');

describe('deployment files', () => {
  it('docker-compose.yml gives each service a valid environment, a health check and the right entry point', () => {
    const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
    for (const [name, def] of Object.entries(services)) {
      const svc = compose.services[name];
      expect(svc).toBeDefined();
      expect(svc.command).toContain(`dist/apps/${name}/src/main.js`);
      expect(svc.healthcheck.test.join(' ')).toContain('/health/ready');
      const raw = svc.environment as Record<string, string>;
      // Secrets have no default: Compose refuses to start until the operator sets them (${VAR:?message}).
      for (const name of ['AUTH_SECRET', 'BOOTSTRAP_ADMIN_TOKEN', 'AUTH_PUBLIC_KEYS']) expect(raw[name]).toMatch(/^\$\{KLAXON_\w+:\?[^}]+\}$/);
      // Only oncall holds the key that signs tokens.
      if (name === 'oncall') expect(raw.AUTH_SIGNING_KEY).toMatch(/^\$\{KLAXON_AUTH_SIGNING_KEY:\?[^}]+\}$/);
      else expect(raw.AUTH_SIGNING_KEY).toBeUndefined();
      expect(String(raw.DATABASE_URL)).toContain('${KLAXON_DB_PASSWORD}');
      const supplied: Record<string, string> = {
        KLAXON_AUTH_SECRET: operatorSecret(),
        KLAXON_ADMIN_TOKEN: operatorSecret(),
        KLAXON_DB_PASSWORD: 'x',
        KLAXON_AUTH_PUBLIC_KEYS: JSON.stringify(keys.publicKeys),
        KLAXON_AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey),
      };
      const env = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)(:[?-][^}]*)?\}/g, (_, name: string) => supplied[name]!)]),
      );
      expect(() => parseConfig(def.env, env)).not.toThrow();
      // Published on the loopback interface only.
      expect(svc.ports.every((p: string) => p.startsWith('127.0.0.1:'))).toBe(true);
    }
    expect(compose.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{KLAXON_DB_PASSWORD:\?/);
    expect(compose.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  });

  it('the Kubernetes manifests give each service a valid environment and probes on the health endpoints', () => {
    const dir = path.join(root, 'deploy/k8s');
    const docs = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()));
    const configMap = docs.find((d) => d.kind === 'ConfigMap').data;
    // No Secret ships with a value: the operator creates klaxon-secrets (deploy/README.md).
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    const secret: Record<string, string> = {
      AUTH_SECRET: operatorSecret(),
      AUTH_PUBLIC_KEYS: JSON.stringify(keys.publicKeys),
      AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey),
      BOOTSTRAP_ADMIN_TOKEN: operatorSecret(),
      ...Object.fromEntries(
        ['ALERT_INGEST', 'ONCALL', 'NOTIFIER', 'INCIDENTS'].map((s) => [`DATABASE_URL_${s}`, `postgres://klaxon:pw@db:5432/klaxon_${s.toLowerCase()}`]),
      ),
    };
    for (const [name, def] of Object.entries(services)) {
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name);
      const container = deployment.spec.template.spec.containers[0];
      expect(container.command).toContain(`dist/apps/${name}/src/main.js`);
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      const env: Record<string, string> = { ...configMap };
      for (const e of container.env) {
        // The signing key is a Secret of its own, read by oncall alone.
        if (e.valueFrom)
          expect(e.valueFrom.secretKeyRef.name).toBe(e.name === 'AUTH_SIGNING_KEY' && name === 'oncall' ? 'klaxon-signing-key' : 'klaxon-secrets');
        env[e.name] = e.value ?? secret[e.valueFrom.secretKeyRef.key]!;
      }
      expect(() => parseConfig(def.env, env)).not.toThrow();
    }
  });
});
