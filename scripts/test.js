#!/usr/bin/env node
// `npm test`: the whole suite on a fresh clone. Installs dependencies, type-checks, lints, then
// runs jest's unit and integration projects; the integration setup starts a real Kafka broker
// (and finds or starts PostgreSQL) by itself. Extra arguments go to jest, e.g.
// `npm test -- --selectProjects unit` or `npm test -- test/e2e/skeleton.e2e-spec.ts`.
// The last line is always "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDeps, ROOT } from './ensure-deps.js';

ensureDeps();
const started = Date.now();
const args = process.argv.slice(2);
const focused = args.some((a) => !a.startsWith('-'));
let extraFailures = 0;
const notes = [];
const CODE_DIRS = ['apps', 'libs', 'test', 'bench', 'chaos', 'scripts', 'deploy/local'];

function run(label, cmd, cmdArgs) {
  const t = Date.now();
  const res = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit' });
  const ok = res.status === 0;
  process.stdout.write(`[test] ${label}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
  return ok;
}

if (!focused && !process.env.KLAXON_SKIP_STATIC) {
  if (!run('typecheck (tsc --noEmit)', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'])) {
    extraFailures += 1;
    notes.push('typecheck failed');
  }
  if (!run('lint (eslint)', process.execPath, ['node_modules/eslint/bin/eslint.js', '--quiet', '--no-error-on-unmatched-pattern', ...CODE_DIRS])) {
    extraFailures += 1;
    notes.push('lint failed');
  }
  if (!run('format (prettier --check)', process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', ...CODE_DIRS])) {
    extraFailures += 1;
    notes.push('formatting differs from Prettier: run npm run format');
  }
}

const resultsFile = path.join(ROOT, '.klaxon', 'jest-results.json');
fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
fs.rmSync(resultsFile, { force: true });
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--json',
    `--outputFile=${resultsFile}`,
    '--maxWorkers=2',
    '--forceExit',
    ...args,
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } },
);

let passed = 0;
let failed = 0;
if (fs.existsSync(resultsFile)) {
  const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  // A suite that fails to load (syntax error, setup failure) has no failed tests: count it.
  failed += r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.every((a) => a.status !== 'failed')).length;
} else {
  failed += 1;
  notes.push('jest produced no results');
}
// The chaos run's short version (chaos/run.ts): the whole stack twice over, every kind of fault
// once, nothing lost or doubled. One more test in the count. The suite replays one schedule
// (KLAXON_CHAOS_SEED to choose another); `npm run chaos` draws a new one each time.
if (!focused && !process.env.KLAXON_SKIP_CHAOS) {
  const seed = process.env.KLAXON_CHAOS_SEED ?? '20261208';
  if (run(`chaos (npm run chaos -- --short --seed ${seed})`, process.execPath, ['scripts/chaos.js', '--short', '--seed', seed])) passed += 1;
  else {
    failed += 1;
    notes.push('the short chaos run found something lost, doubled or wrong (see its output above)');
  }
}
failed += extraFailures;
if (jest.status !== 0 && failed === 0) {
  failed = 1;
  notes.push(`jest exited with ${jest.status}`);
}
process.stdout.write(`[test] finished in ${((Date.now() - started) / 1000).toFixed(0)} s${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
