/** `--help` everywhere, `--version`, and usage errors (exit 64). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tempDir } from './files.js';
import { assertExit, cli, packageVersion, runCli } from './run-cli.js';

/** Every command and subcommand, with the options its help must mention. */
const COMMANDS: readonly [string, readonly string[]][] = [
  ['init', ['--app', '--repo-dir', '--unencrypted', '--no-consistent-snapshot', '--expires', '--threshold']],
  ['keys', ['create', 'list', 'add', 'replace', 'revoke']],
  ['keys create', ['<name>', '--unencrypted']],
  ['keys list', ['--help']],
  ['keys add', ['<role>', '<name>', '--create', '--unencrypted', '--stage']],
  ['keys replace', ['<old>', '<new>', '--stage']],
  ['keys revoke', ['<role>', '<name>', '--stage']],
  ['threshold', ['set']],
  ['threshold set', ['<role>', '<n>', '--stage']],
  ['release', ['add', 'list', 'remove', 'prune']],
  [
    'release add',
    [
      '<bundle-dir>',
      '--version',
      '--required',
      '--meta',
      '--meta-file',
      '--platform',
      '--skip-patch',
      '--stage',
    ],
  ],
  ['release list', ['--platform']],
  ['release remove', ['<version>', '--platform', '--stage']],
  ['release prune', ['--keep', '--platform', '--stage']],
  ['refresh', ['--within']],
  ['status', ['--help']],
  ['verify', ['--help']],
  ['sign', ['--discard']],
  [
    'install',
    [
      '--app',
      '--install-root',
      '--entry',
      '--metadata-url',
      '--targets-url',
      '--trusted-root',
      '--channel',
      '--version',
      '--cache-dir',
      '--entry-point',
      '--confirm-within',
      '--max-launches',
      'client update',
    ],
  ],
];

describe('notsotuf --help', { concurrency: 4, timeout: 150_000 }, () => {
  test('the program lists its global options and every command', async () => {
    const cwd = await tempDir();
    const r = await cli(['--help'], { cwd });
    assert.match(r.stdout, /Usage: notsotuf/);
    for (const option of ['--config', '--keys-dir', '--passphrase-file', '--json', '--debug', '--help']) {
      assert.ok(r.stdout.includes(option), `program help lacks ${option}:\n${r.stdout}`);
    }
    for (const command of [
      'init',
      'keys',
      'threshold',
      'release',
      'refresh',
      'status',
      'verify',
      'sign',
      'install',
    ]) {
      assert.match(r.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `program help lacks ${command}`);
    }
    assert.equal(r.stderr, '');
  });

  for (const [command, mentions] of COMMANDS) {
    test(`${command} --help exits 0 and mentions ${mentions.join(' ')}`, async () => {
      const cwd = await tempDir();
      const r = await cli([...command.split(' '), '--help'], { cwd });
      assert.ok(r.stdout.includes(`Usage: notsotuf ${command}`), `no usage line:\n${r.stdout}`);
      for (const m of mentions) assert.ok(r.stdout.includes(m), `${command} help lacks ${m}:\n${r.stdout}`);
    });
  }

  test('refresh --help documents its exit codes', async () => {
    const r = await cli(['refresh', '--help'], { cwd: await tempDir() });
    assert.match(
      r.stdout.replace(/\s+/g, ' '),
      /Exit 0: nothing to do; 2: refreshed \(publish it\); 1: failed/,
    );
  });
});

describe('notsotuf --version and usage errors', { concurrency: 4, timeout: 150_000 }, () => {
  test('--version prints the version in package.json', async () => {
    const r = await cli(['--version'], { cwd: await tempDir() });
    assert.equal(r.stdout, `${packageVersion()}\n`);
  });

  test('an unknown command exits 64', async () => {
    const r = await runCli(['bogus'], { cwd: await tempDir() });
    assertExit(r, 64);
    assert.match(r.stderr, /unknown command 'bogus'/);
  });

  test('an unknown global option exits 64', async () => {
    const r = await runCli(['--bogus'], { cwd: await tempDir() });
    assertExit(r, 64);
    assert.match(r.stderr, /unknown option '--bogus'/);
  });

  test('an unknown option of a command exits 64', async () => {
    const r = await runCli(['status', '--bogus'], { cwd: await tempDir() });
    assert.match(r.stderr, /unknown option '--bogus'/);
    assertExit(r, 64);
  });

  test('release add without the required --version exits 64', async () => {
    const r = await runCli(['release', 'add', 'b'], { cwd: await tempDir() });
    assert.match(r.stderr, /required option '--version <version>' not specified/);
    assertExit(r, 64);
  });

  test('release prune without the required --keep exits 64', async () => {
    const r = await runCli(['release', 'prune'], { cwd: await tempDir() });
    assert.match(r.stderr, /required option '--keep <n>' not specified/);
    assertExit(r, 64);
  });

  test('a missing argument exits 64', async () => {
    const r = await runCli(['keys', 'create'], { cwd: await tempDir() });
    assert.match(r.stderr, /missing required argument 'name'/);
    assertExit(r, 64);
  });
});

describe('lazy command groups', () => {
  test('commandWord skips global options and their values', async () => {
    const { commandWord } = await import('../../src/cli/program.js');
    assert.equal(commandWord(['--json', '--config', 'x.json', 'patch', 'apply']), 'patch');
    assert.equal(commandWord(['--keys-dir', 'k', '--keys-dir=j', '--debug', 'status']), 'status');
    assert.equal(commandWord(['--passphrase-file', 'p']), undefined);
    assert.equal(commandWord([]), undefined);
  });

  test('a run defines only its command group; help and unknown words define all of them', async () => {
    const { buildProgram } = await import('../../src/cli/program.js');
    const names = async (args: string[]) => (await buildProgram(args)).commands.map((c) => c.name());
    assert.deepEqual(await names(['--json', 'patch', 'apply', 'a', 'b', 'c']), ['patch']);
    assert.deepEqual(await names(['status']), ['refresh', 'status', 'verify', 'sign']);
    const all = await names(['--help']);
    assert.deepEqual(await names(['no-such-command']), all);
    for (const name of [
      'init',
      'keys',
      'threshold',
      'release',
      'patch',
      'publish',
      'pull',
      'serve',
      'client',
      'install',
    ])
      assert.ok(all.includes(name), name);
  });
});
