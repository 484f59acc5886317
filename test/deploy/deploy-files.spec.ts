import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '#libs/config';
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

describe('deployment files', () => {
  it('docker-compose.yml gives each service a valid environment, a health check and the right entry point', () => {
    const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
    for (const [name, def] of Object.entries(services)) {
      const svc = compose.services[name];
      expect(svc).toBeDefined();
      expect(svc.command).toContain(`dist/apps/${name}/src/main.js`);
      expect(svc.healthcheck.test.join(' ')).toContain('/health/ready');
      const env = Object.fromEntries(
        Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/, '$1')]),
      );
      expect(() => parseConfig(def.env, env)).not.toThrow();
    }
    expect(compose.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  });

  it('the Kubernetes manifests give each service a valid environment and probes on the health endpoints', () => {
    const dir = path.join(root, 'deploy/k8s');
    const docs = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()));
    const configMap = docs.find((d) => d.kind === 'ConfigMap').data;
    const secret = docs.find((d) => d.kind === 'Secret').stringData;
    for (const [name, def] of Object.entries(services)) {
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name);
      const container = deployment.spec.template.spec.containers[0];
      expect(container.command).toContain(`dist/apps/${name}/src/main.js`);
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      const env: Record<string, string> = { ...configMap };
      for (const e of container.env) env[e.name] = e.value ?? secret[e.valueFrom.secretKeyRef.key];
      expect(() => parseConfig(def.env, env)).not.toThrow();
    }
  });
});
