#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (TypeScript through tsx).
// Node 20's --test does not expand globs or pick up .ts files by itself, hence this small launcher.
// The tests run on the node that runs this script (process.execPath): scripts/node-lanes.mjs starts it with
// Node 22 and 24.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures') out.push(...collect(full));
    } else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = collect(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Two reporters on stdout: `spec` as the tests run, then scripts/test-file-times.mjs's time per file and the
// slowest files (a path relative to cwd, which Node resolves like an import).
const reporters = ['spec', './scripts/test-file-times.mjs'].flatMap((r) => [
  `--test-reporter=${r}`,
  '--test-reporter-destination=stdout',
]);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
