/**
 * The notsotuf client against the repository made by the real tufup 0.10 (test/fixtures/tufup-repo-v0.10), served
 * over HTTP: the decisions and results must match what the tufup client did there (EXPECTED.md, cases 1–13), and
 * every update must produce exactly the bundle tree tufup's `bundles/<version>/` holds.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.js';
import type { ClientOptions } from '../../src/client/options.js';
import { inPlaceStrategy } from '../../src/install/in-place.js';
import { installArchive } from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree, TUFUP_FIXTURE } from '../helpers/repo-fixtures.js';
import { type RepoServer, startRepoServer } from '../helpers/tuf-client.js';

const REPO = join(TUFUP_FIXTURE, 'repository');
const archive = (v: string) => `example_app-${v}.tar.gz`;
const patch = (v: string) => `example_app-${v}.patch`;

describe('client on the tufup 0.10 fixture repository (EXPECTED.md)', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let server: RepoServer;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-tufup-client-'));
    server = await startRepoServer(REPO);
  });
  after(async () => {
    await server.close();
    await cleanup();
  });

  /** An app installed at `version` by an installer (tree from the published archive; archive cached or not). */
  async function installedApp(name: string, version: string, cached: boolean) {
    const installDir = join(work, name, 'app');
    const cacheDir = join(work, name, 'cache');
    await installArchive(
      join(REPO, 'targets', archive(version)),
      archive(version),
      installDir,
      cacheDir,
      cached,
    );
    return { installDir, cacheDir };
  }

  function client(
    dirs: { installDir: string; cacheDir: string },
    version: string,
    extra: Partial<ClientOptions> = {},
  ) {
    return new Client({
      appName: 'example_app',
      currentVersion: version,
      ...dirs,
      metadataUrl: `${server.url}/metadata/`,
      targetsUrl: `${server.url}/targets/`,
      trustedRoot: { path: join(REPO, 'metadata', '1.root.json') },
      // tufup's EXPECTED.md compares the extracted release with its bundle: purge makes the install dir exactly that.
      installStrategy: inPlaceStrategy({ purge: true }),
      ...extra,
    });
  }

  /** Runs one update and reports what the EXPECTED.md cases record. */
  async function update(c: Client) {
    const first = server.requests.length;
    const result = await c.update();
    const requests = server.requests.slice(first);
    return {
      result,
      metadataRequests: requests
        .filter((p) => p.startsWith('/metadata/'))
        .map((p) => p.slice('/metadata/'.length)),
      targetRequests: requests
        .filter((p) => p.startsWith('/targets/'))
        .map((p) => p.slice('/targets/'.length))
        .sort(),
    };
  }

  const FULL_REFRESH = [
    '2.root.json',
    '3.root.json',
    '4.root.json',
    'timestamp.json',
    'snapshot.json',
    'targets.json',
  ];

  async function assertInstalled(installDir: string, version: string) {
    assert.deepEqual(
      await snapshotTree(installDir),
      await snapshotTree(join(TUFUP_FIXTURE, 'bundles', version)),
    );
  }

  it('cases 1–3: 1.0 → 2.0 (required, patch) → 3.0 (two patches, applied in version order) → no update', async () => {
    const dirs = await installedApp('case1', '1.0', true);
    const one = await update(client(dirs, '1.0'));
    assert.equal(one.result?.version, '2.0');
    assert.equal(one.result?.download.method, 'patch');
    assert.equal(one.result?.download.bytes, 2973);
    assert.deepEqual(one.metadataRequests, FULL_REFRESH);
    assert.deepEqual(one.targetRequests, [patch('2.0')]);
    await assertInstalled(dirs.installDir, '2.0');

    const two = await update(client(dirs, '2.0'));
    assert.equal(two.result?.version, '3.0');
    assert.equal(two.result?.download.bytes, 6489);
    assert.deepEqual(
      two.result?.info.method.kind === 'patch' && two.result.info.method.patches.map((p) => p.name),
      [patch('3.0rc1'), patch('3.0')],
    );
    // A restarted client with current metadata asks only for the next root and the timestamp.
    assert.deepEqual(two.metadataRequests, ['4.root.json', 'timestamp.json']);
    assert.deepEqual(two.targetRequests, [patch('3.0'), patch('3.0rc1')]);
    await assertInstalled(dirs.installDir, '3.0');

    const three = await update(client(dirs, '3.0'));
    assert.equal(three.result, null);
    assert.deepEqual(three.metadataRequests, ['4.root.json', 'timestamp.json']);
  });

  const single: {
    name: string;
    from: string;
    cached: boolean;
    extra?: Partial<ClientOptions>;
    to: string;
    targets: string[];
    bytes: number;
  }[] = [
    {
      name: 'case 4: 1.0 without a cached archive → full 2.0',
      from: '1.0',
      cached: false,
      to: '2.0',
      targets: [archive('2.0')],
      bytes: 34473,
    },
    {
      name: 'case 5: channel rc, 1.0 → 2.0 by patch',
      from: '1.0',
      cached: true,
      extra: { channel: 'rc' },
      to: '2.0',
      targets: [patch('2.0')],
      bytes: 2973,
    },
    {
      name: 'case 7: ignoreRequired, 1.0 → 3.0 through three patches',
      from: '1.0',
      cached: true,
      extra: { ignoreRequired: true },
      to: '3.0',
      targets: [patch('2.0'), patch('3.0'), patch('3.0rc1')],
      bytes: 9462,
    },
    {
      name: 'case 8: patches disabled → full 2.0',
      from: '1.0',
      cached: true,
      extra: { allowPatches: false },
      to: '2.0',
      targets: [archive('2.0')],
      bytes: 34473,
    },
    {
      name: 'case 10: 2.0 with cache → 3.0 by two patches',
      from: '2.0',
      cached: true,
      to: '3.0',
      targets: [patch('3.0'), patch('3.0rc1')],
      bytes: 6489,
    },
    {
      name: 'case 11: 2.0 without cache → full 3.0',
      from: '2.0',
      cached: false,
      to: '3.0',
      targets: [archive('3.0')],
      bytes: 34812,
    },
    {
      name: 'case 12: 3.0rc1 on channel final → 3.0 by one patch',
      from: '3.0rc1',
      cached: true,
      to: '3.0',
      targets: [patch('3.0')],
      bytes: 2885,
    },
  ];
  for (const c of single) {
    it(c.name, async () => {
      const dirs = await installedApp(c.name.replace(/\W+/g, '-'), c.from, c.cached);
      const { result, metadataRequests, targetRequests } = await update(client(dirs, c.from, c.extra));
      assert.equal(result?.version, c.to);
      assert.equal(result?.download.bytes, c.bytes);
      assert.deepEqual(metadataRequests, FULL_REFRESH);
      assert.deepEqual(targetRequests, c.targets);
      await assertInstalled(dirs.installDir, c.to);
    });
  }

  it('case 6: channel rc on 2.0 → 3.0 (3.0 beats 3.0rc1)', async () => {
    const dirs = await installedApp('case6', '2.0', true);
    const { result } = await update(client(dirs, '2.0', { channel: 'rc' }));
    assert.equal(result?.version, '3.0');
    await assertInstalled(dirs.installDir, '3.0');
  });

  it('case 9: a client that bundles 3.root.json asks only for 4.root.json before the timestamp', async () => {
    const dirs = await installedApp('case9', '1.0', true);
    const c = client(dirs, '1.0', { trustedRoot: { path: join(REPO, 'metadata', '3.root.json') } });
    const { result, metadataRequests, targetRequests } = await update(c);
    assert.equal(result?.version, '2.0');
    assert.deepEqual(metadataRequests, ['4.root.json', 'timestamp.json', 'snapshot.json', 'targets.json']);
    assert.deepEqual(targetRequests, [patch('2.0')]);
  });

  it('case 13: 3.0 finds no update', async () => {
    const dirs = await installedApp('case13', '3.0', true);
    const { result, metadataRequests } = await update(client(dirs, '3.0'));
    assert.equal(result, null);
    assert.deepEqual(metadataRequests, FULL_REFRESH);
  });

  it('improvement: a patch that gives a wrong result is remembered, and the full archive is used at once', async () => {
    // The cached "1.0" archive holds other content (tufup only checks that the file exists): 1.0 has no signed tar
    // hash, so the client cannot tell before patching; the signed result hash of the patch catches it.
    const dirs = await installedApp('wrong-base', '1.0', false);
    await installArchive(
      join(REPO, 'targets', archive('3.0rc1')),
      archive('1.0'),
      `${dirs.installDir}-other`,
      dirs.cacheDir,
    );
    const c = client(dirs, '1.0');
    const warnings: string[] = [];
    c.on('warning', (w) => warnings.push(w.message));
    const first = server.requests.length;
    assert.equal((await c.checkForUpdates())?.method.kind, 'patch');
    const download = await c.downloadUpdate();
    assert.equal(download.method, 'full');
    assert.equal(download.fellBack, true);
    const targets = server.requests.slice(first).filter((p) => p.startsWith('/targets/'));
    assert.deepEqual(targets, [`/targets/${patch('2.0')}`, `/targets/${archive('2.0')}`]);
    assert.ok(warnings.some((w) => /PATCH_RESULT_MISMATCH/.test(w)));
    // Remembered: the next check plans the full archive straight away.
    const again = client(dirs, '1.0');
    const info = await again.checkForUpdates();
    assert.equal(info?.method.kind === 'full' && info.method.reason, 'patch-failed');
    await again.downloadUpdate();
    await again.installUpdate();
    await assertInstalled(dirs.installDir, '2.0');
  });
});
