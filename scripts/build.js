#!/usr/bin/env node
// Compiles apps/ and libs/ (and bench/) from TypeScript to ES modules in dist/ with SWC: about a
// second for the whole tree. Types are checked separately by `npm run typecheck` (tsc --noEmit).
import { transformFile } from '@swc/core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['apps', 'libs', 'bench', 'chaos'];
const OUT = path.join(ROOT, 'dist');
const SKIP = /\.(spec|int-spec|e2e-spec|d)\.ts$/;

function walk(dir, files = []) {
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'test') walk(full, files);
    } else if (entry.name.endsWith('.ts') && !SKIP.test(entry.name)) files.push(full);
  }
  return files;
}

export async function build({ quiet = false } = {}) {
  const started = Date.now();
  const swcrc = JSON.parse(fs.readFileSync(path.join(ROOT, '.swcrc'), 'utf8'));
  const files = SOURCES.flatMap((s) => walk(path.join(ROOT, s)));
  const wanted = new Set();
  let compiled = 0;
  await Promise.all(
    files.map(async (file) => {
      const rel = path.relative(ROOT, file);
      const out = path.join(OUT, rel.replace(/\.ts$/, '.js'));
      wanted.add(out);
      wanted.add(`${out}.map`);
      if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(file).mtimeMs) return;
      const result = await transformFile(file, { ...swcrc, swcrc: false, filename: file, sourceFileName: path.relative(path.dirname(out), file) });
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, `${result.code}\n//# sourceMappingURL=${path.basename(out)}.map\n`);
      if (result.map) fs.writeFileSync(`${out}.map`, result.map);
      compiled += 1;
    }),
  );
  // Remove outputs whose source is gone, so a deleted module cannot linger in dist/.
  for (const s of SOURCES) {
    for (const f of walkAll(path.join(OUT, s))) if (!wanted.has(f)) fs.rmSync(f);
  }
  if (!quiet) console.log(`build: ${compiled} of ${files.length} files compiled in ${Date.now() - started} ms`);
}

function walkAll(dir, files = []) {
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walkAll(full, files);
    else files.push(full);
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  build().catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  });
}
