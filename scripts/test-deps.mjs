#!/usr/bin/env node
// Installs the real parts the tests talk to, when they are missing and installing is allowed: Debian packages via
// apt-get, as root (or through passwordless sudo). NOTSOTUF_TEST_INSTALL=0 turns it off. Without them, the tests
// that need a part report themselves skipped with the reason; nothing is faked.
//
// The one list of Debian packages the tests use. `--print-packages` only prints the missing ones, one a line,
// for .ci/run, which installs them before `npm ci`: so this script imports nothing outside Node itself.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Binary that proves a part is there (an absolute path, or a command looked up on PATH) → the Debian packages
 * that provide it.
 */
const PARTS = [
  ['tar', ['tar'], 'GNU tar as a reference for the tar reader and writer'],
  ['python3', ['python3'], "python3's tarfile as a reference (tufup's format)"],
  ['mkfifo', ['coreutils'], 'FIFOs for the special-file rejection tests'],
  ['/usr/bin/bsdiff', ['bsdiff'], 'reference bsdiff/bspatch (patch interop)'],
  ['/usr/bin/bzip2', ['bzip2'], 'reference bzip2'],
  ['/usr/bin/xz', ['xz-utils'], 'reference LZMA decoder checks'],
  ['/usr/bin/script', ['bsdutils'], 'a pseudo-terminal for the passphrase prompt test'],
  ['/usr/bin/rclone', ['rclone'], 'publishing to rclone remotes'],
  [
    '/usr/bin/swift-proxy-server',
    ['swift-proxy', 'swift-account', 'swift-container', 'swift-object'],
    'a real S3-compatible server (OpenStack Swift with s3api)',
  ],
  ['/usr/bin/memcached', ['memcached'], "Swift's token cache"],
  ['/usr/sbin/nginx', ['nginx-light'], 'a caching CDN in front of the repository'],
];

/** Whether `bin` exists: an absolute path as it is, a bare command on PATH. */
function found(bin) {
  if (bin.startsWith('/')) return existsSync(bin);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, bin)));
}

const missing = PARTS.filter(([bin]) => !found(bin));
const packages = [...new Set(missing.flatMap(([, pkgs]) => pkgs))];
if (process.argv.includes('--print-packages')) {
  if (packages.length > 0) console.log(packages.join('\n'));
  process.exit(0);
}
if (missing.length === 0) process.exit(0);

const what = missing.map(([, , why]) => why).join('; ');
const allowed = process.env.NOTSOTUF_TEST_INSTALL !== '0' && existsSync('/usr/bin/apt-get');
const asRoot = process.getuid?.() === 0;
const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

if (!allowed || (!asRoot && !sudo)) {
  console.error(
    `test-deps: missing ${packages.join(' ')} (${what}); not installing (${
      allowed ? 'not root and no passwordless sudo' : 'NOTSOTUF_TEST_INSTALL=0 or no apt-get'
    }). The tests that need them report themselves skipped.`,
  );
  process.exit(0);
}

console.error(`test-deps: installing ${packages.join(' ')} (${what})`);
const run = (args) => {
  const cmd = asRoot ? args : ['sudo', '-n', ...args];
  return spawnSync(cmd[0], cmd.slice(1), {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).status;
};
if (run(['apt-get', 'install', '-y', '-qq', ...packages]) !== 0) {
  // The package lists may be stale or absent on a fresh machine.
  run(['apt-get', 'update', '-qq']);
  if (run(['apt-get', 'install', '-y', '-qq', ...packages]) !== 0) {
    console.error('test-deps: apt-get failed; the tests that need these parts report themselves skipped.');
  }
}
