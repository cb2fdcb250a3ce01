/**
 * `notsotuf-tuf-client` on delegated targets roles, as the TUF conformance suite checks them (its
 * test_unusual_role_name and test_cached_role_is_verified_against_current_delegator cases, rebuilt here on a
 * repository of our own): role names that need URL quoting are requested quoted, kept in the metadata dir under
 * their quoted name (never outside it), and read back from there on the next run; a delegated role already trusted
 * through one delegator is verified again when another delegator reaches it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Delegation,
  type ServedDelegationRepo,
  serveDelegationRepo,
} from '../helpers/delegation-repo.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';
import { assertExit, type CliResult, PROJECT_ROOT, runNode } from './run-cli.js';

const TUF_CLIENT = join(PROJECT_ROOT, 'dist', 'cli', 'tuf-client-main.js');

let work: string;
let cleanup: () => Promise<void>;
let cases = 0;
before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-tuf-delegations-'));
});
after(() => cleanup());

/** A client dir next to a served repository; `download` runs the real client process for some target names. */
async function setup(spec: Parameters<typeof serveDelegationRepo>[1]) {
  const dir = join(work, `case-${cases++}`);
  const repo = await serveDelegationRepo(join(dir, 'repo'), spec);
  const clientDir = join(dir, 'client');
  const metadataDir = join(clientDir, 'metadata');
  const targetDir = join(clientDir, 'targets');
  const run = (args: readonly string[]): Promise<CliResult> =>
    runNode([TUF_CLIENT, '--metadata-dir', metadataDir, ...args], { cwd: dir });
  assertExit(await run(['init', repo.trustedRoot]), 0, 'init');
  return {
    repo,
    clientDir,
    metadataDir,
    targetDir,
    download: (...names: string[]) =>
      run([
        '--metadata-url',
        repo.metadataUrl,
        ...names.flatMap((n) => ['--target-name', n]),
        '--target-base-url',
        repo.targetsUrl,
        '--target-dir',
        targetDir,
        'download',
      ]),
    /** The `.json` files of the metadata dir: what the conformance suite counts as trusted roles. */
    trustedRoles: async () => (await readdir(metadataDir)).filter((f) => f.endsWith('.json')).sort(),
  };
}

describe('unusual delegated role names (conformance: test_unusual_role_name)', () => {
  const servers: ServedDelegationRepo[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  for (const role of ['?', '#', '/delegatedrole', '../delegatedrole']) {
    test(`role ${JSON.stringify(role)}: requested quoted, kept quoted inside the metadata dir, read back next run`, async () => {
      const c = await setup({ delegations: [{ delegator: 'targets', role, keys: ['delegated'] }] });
      servers.push(c.repo);
      const quoted = encodeURIComponent(role);
      const first = await c.download('nonexistent target');
      assertExit(first, 1, 'download of a target no role lists');
      assert.match(first.stderr, /not listed/);
      assert.deepEqual(
        c.repo.requests.filter(
          (p) => p.startsWith('/metadata/1.') && !/\.(root|snapshot|targets)\.json$/.test(p),
        ),
        [`/metadata/1.${quoted}.json`],
      );
      // Five trusted roles: the four top-level ones and the delegated one, under its quoted name.
      assert.deepEqual(
        await c.trustedRoles(),
        [`${quoted}.json`, 'root.json', 'snapshot.json', 'targets.json', 'timestamp.json'].sort(),
      );
      const kept = JSON.parse(await readFile(join(c.metadataDir, `${quoted}.json`), 'utf8'));
      assert.equal(kept.signed._type, 'targets');
      // Nothing was written beside the metadata dir (`../delegatedrole` must not escape it).
      assert.deepEqual((await readdir(c.clientDir)).sort(), ['metadata', 'targets']);
      assert.deepEqual(await readdir(c.targetDir), []);

      // The next run trusts the cached role without asking for it again.
      const before = c.repo.requests.length;
      assertExit(await c.download('nonexistent target'), 1, 'second download');
      assert.deepEqual(c.repo.requests.slice(before), ['/metadata/2.root.json', '/metadata/timestamp.json']);
    });
  }
});

describe('a role delegated by two delegators (conformance: test_cached_role_is_verified_against_current_delegator)', () => {
  // targets → A → C for path-a only (key kc); targets → B → C for path-b (key kx). C lists both paths.
  const diamond = (cSigners: string[]): Parameters<typeof serveDelegationRepo>[1] => {
    const delegations: Delegation[] = [
      { delegator: 'targets', role: 'A', keys: ['ka'] },
      { delegator: 'targets', role: 'B', keys: ['kb'] },
      { delegator: 'A', role: 'C', keys: ['kc'], paths: ['path-a'] },
      { delegator: 'B', role: 'C', keys: ['kx'], paths: ['path-b'] },
    ];
    return {
      delegations,
      signers: { C: cSigners },
      targets: { C: { 'path-a': 'reached through A', 'path-b': 'reached through B' } },
    };
  };
  const servers: ServedDelegationRepo[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('C signed only by the key A names: path-a downloads, path-b (through B) is refused in the same run', async () => {
    const c = await setup(diamond(['kc']));
    servers.push(c.repo);
    const result = await c.download('path-a', 'path-b');
    assertExit(result, 1, 'download of path-a and path-b');
    assert.match(result.stderr, /path-b is not listed/);
    assert.deepEqual(await readdir(c.targetDir), ['path-a']);
    assert.equal(await readFile(join(c.targetDir, 'path-a'), 'utf8'), 'reached through A');
  });

  test("C signed by both delegators' keys: both paths download", async () => {
    const c = await setup(diamond(['kc', 'kx']));
    servers.push(c.repo);
    assertExit(await c.download('path-a', 'path-b'), 0, 'download of path-a and path-b');
    assert.deepEqual((await readdir(c.targetDir)).sort(), ['path-a', 'path-b']);
    assert.equal(await readFile(join(c.targetDir, 'path-b'), 'utf8'), 'reached through B');
  });

  test('C signed only by the key B names: path-b downloads, path-a (through A) is then refused', async () => {
    const c = await setup(diamond(['kx']));
    servers.push(c.repo);
    const result = await c.download('path-b', 'path-a');
    assert.match(result.stderr, /path-a is not listed/);
    assertExit(result, 1, 'download of path-a and path-b');
    assert.deepEqual(await readdir(c.targetDir), ['path-b']);
  });
});
