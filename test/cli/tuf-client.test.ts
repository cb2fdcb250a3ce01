/**
 * `notsotuf-tuf-client` (the TUF conformance suite's client-under-test protocol) as a real process against the
 * repository made by the real tufup 0.10 (consistent_snapshot false), served on 127.0.0.1: init makes no request,
 * refresh leaves exactly the four trusted roles (byte-identical to what the server serves) at the top of the
 * metadata dir, download writes verified targets and skips cached ones, and every failure exits 1 without giving
 * up what was trusted before.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyTree, makeTempDir, TUFUP_FIXTURE } from '../helpers/repo-fixtures.js';
import { type RepoServer, startRepoServer } from '../helpers/tuf-client.js';
import { assertExit, type CliResult, PROJECT_ROOT, runNode } from './run-cli.js';

const TUF_CLIENT = join(PROJECT_ROOT, 'dist', 'cli', 'tuf-client-main.js');
const REPO = join(TUFUP_FIXTURE, 'repository');
const ROLES = ['root.json', 'snapshot.json', 'targets.json', 'timestamp.json'];
const NAMES = ['example_app-2.0.patch', 'example_app-1.0.tar.gz'];

describe('notsotuf-tuf-client (conformance protocol, real process)', { timeout: 120_000 }, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let server: RepoServer;
  let metadataDir: string;
  let targetDir: string;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-cli-tuf-client-'));
    server = await startRepoServer(REPO);
    metadataDir = join(work, 'metadata');
    targetDir = join(work, 'targets');
  });
  after(async () => {
    await server?.close();
    await cleanup();
  });

  const tufClient = (args: readonly string[]): Promise<CliResult> =>
    runNode([TUF_CLIENT, ...args], { cwd: work });

  const refreshArgs = (url = server.url) => [
    '--metadata-dir',
    metadataDir,
    '--metadata-url',
    `${url}/metadata`,
    'refresh',
  ];

  const downloadArgs = (names: readonly string[]) => [
    '--metadata-dir',
    metadataDir,
    '--metadata-url',
    `${server.url}/metadata`,
    ...names.flatMap((name) => ['--target-name', name]),
    '--target-base-url',
    `${server.url}/targets`,
    '--target-dir',
    targetDir,
    'download',
  ];

  /** Request paths the server saw while `body` ran. */
  async function requestsDuring(body: () => Promise<void>): Promise<string[]> {
    const first = server.requests.length;
    await body();
    return server.requests.slice(first);
  }

  /** The `.json` files at the top of the metadata dir: the suite reads them as the client's trusted roles. */
  async function trustedRoles(): Promise<string[]> {
    return (await readdir(metadataDir)).filter((f) => f.endsWith('.json')).sort();
  }

  test('--help prints the usage and exits 0; a usage error exits 1 with the usage', async () => {
    const help = await tufClient(['--help']);
    assertExit(help, 0, '--help');
    assert.match(help.stdout, /^usage:/);
    assert.match(help.stdout, /--metadata-dir D init TRUSTED_ROOT/);

    const noDir = await tufClient(['refresh']);
    assertExit(noDir, 1, 'refresh without --metadata-dir');
    assert.match(noDir.stderr, /--metadata-dir is required/);
    assert.match(noDir.stderr, /^usage:/m);
    const unknown = await tufClient(['--metadata-dir', join(work, 'unused'), 'frobnicate']);
    assertExit(unknown, 1, 'an unknown command');
    assert.match(unknown.stderr, /unknown command frobnicate/);
    assert.match(unknown.stderr, /^usage:/m);
  });

  test('init copies the trusted root into the metadata dir without a request', async () => {
    const requests = await requestsDuring(async () => {
      const r = await tufClient([
        '--metadata-dir',
        metadataDir,
        'init',
        join(REPO, 'metadata', '1.root.json'),
      ]);
      assertExit(r, 0, 'init');
    });
    assert.deepEqual(requests, []);
    assert.deepEqual(await trustedRoles(), ['root.json']);
    assert.deepEqual(
      await readFile(join(metadataDir, 'root.json')),
      await readFile(join(REPO, 'metadata', '1.root.json')),
    );
  });

  test('refresh: exit 0; the metadata dir holds exactly the four roles, as served (root version 3)', async () => {
    const requests = await requestsDuring(async () =>
      assertExit(await tufClient(refreshArgs()), 0, 'refresh'),
    );
    assert.ok(requests.includes('/metadata/2.root.json') && requests.includes('/metadata/3.root.json'));
    assert.ok(!requests.some((p) => p.startsWith('/targets/')), 'refresh downloads no target');
    assert.deepEqual(await trustedRoles(), ROLES);
    for (const role of ROLES) {
      assert.deepEqual(
        await readFile(join(metadataDir, role)),
        await readFile(join(REPO, 'metadata', role)),
        `${role} equals the served file`,
      );
    }
    const root = JSON.parse(await readFile(join(metadataDir, 'root.json'), 'utf8'));
    assert.equal(root.signed.version, 3);
  });

  test('download: both targets byte-identical to the fixture; a second run requests no target', async () => {
    const first = await requestsDuring(async () =>
      assertExit(await tufClient(downloadArgs(NAMES)), 0, 'download'),
    );
    assert.deepEqual(
      first.filter((p) => p.startsWith('/targets/')).sort(),
      NAMES.map((n) => `/targets/${n}`).sort(),
    );
    assert.deepEqual((await readdir(targetDir)).sort(), [...NAMES].sort());
    for (const name of NAMES) {
      assert.deepEqual(
        await readFile(join(targetDir, name)),
        await readFile(join(REPO, 'targets', name)),
        name,
      );
    }
    const second = await requestsDuring(async () =>
      assertExit(await tufClient(downloadArgs(NAMES)), 0, 'download again'),
    );
    assert.deepEqual(
      second.filter((p) => p.startsWith('/targets/')),
      [],
      'cached targets are not downloaded again',
    );
    assert.deepEqual(await trustedRoles(), ROLES);
  });

  test('download of an unknown target name: exit 1, nothing written', async () => {
    const initial = (await readdir(targetDir)).sort();
    const r = await tufClient(downloadArgs(['example_app-9.9.tar.gz']));
    assertExit(r, 1, 'download of an unknown target');
    assert.match(r.stderr, /^error TARGET_FILE_MISSING: /m);
    assert.deepEqual((await readdir(targetDir)).sort(), initial);
  });

  test('refresh against a tampered timestamp.json: exit 1, the trusted timestamp is kept', async () => {
    const copy = join(work, 'tampered');
    await copyTree(REPO, copy);
    const path = join(copy, 'metadata', 'timestamp.json');
    const ts = JSON.parse(await readFile(path, 'utf8'));
    const sig: string = ts.signatures[0].sig;
    ts.signatures[0].sig = `${sig[0] === '0' ? '1' : '0'}${sig.slice(1)}`;
    await writeFile(path, JSON.stringify(ts, null, 1));
    const trusted = new Map<string, Buffer>();
    for (const role of ROLES) trusted.set(role, await readFile(join(metadataDir, role)));

    const tampered = await startRepoServer(copy);
    try {
      const r = await tufClient(refreshArgs(tampered.url));
      assertExit(r, 1, 'refresh against a tampered timestamp');
      assert.match(r.stderr, /^error METADATA_SIGNATURE_INVALID: /m);
      assert.ok(tampered.requests.includes('/metadata/timestamp.json'));
    } finally {
      await tampered.close();
    }
    assert.deepEqual(await trustedRoles(), ROLES);
    for (const role of ROLES) {
      assert.deepEqual(await readFile(join(metadataDir, role)), trusted.get(role), `${role} is kept`);
    }
    // The genuine repository still refreshes from what was kept.
    assertExit(await tufClient(refreshArgs()), 0, 'refresh against the genuine server');
  });
});
