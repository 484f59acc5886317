// Installs npm dependencies when they are missing or package-lock.json changed since the last
// install, so `npm start` and `npm test` work on a fresh clone. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function ensureDeps() {
  // Set by a test that runs `npm start` from inside the suite: the suite has its dependencies, and
  // an `npm ci` then would replace node_modules under the tests still running.
  if (process.env.KLAXON_SKIP_DEPS === '1') return false;
  const lock = path.join(ROOT, 'package-lock.json');
  const marker = path.join(ROOT, 'node_modules/.klaxon-lock-hash');
  const hash = createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === hash) return false;
  process.stderr.write('[deps] installing npm dependencies (npm ci)...\n');
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    process.stderr.write('[deps] npm ci failed; see above\n');
    process.exit(1);
  }
  fs.writeFileSync(marker, hash);
  return true;
}
