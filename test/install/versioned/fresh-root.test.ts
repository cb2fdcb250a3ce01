/**
 * claimFreshRoot / discardFreshRoot on real files: a first install takes only a new or empty root, refuses the rest
 * (with its code, before changing anything), and its undo removes exactly what the claim and the install made.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/index.js';
import { claimFreshRoot, discardFreshRoot } from '../../../src/install/index.js';
import { snapshot, tempDir } from '../helpers.js';
import { installVersion, makeRelease } from './fixtures.js';

let base: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir: base, cleanup } = await tempDir('notsotuf-fresh-root-'));
});
after(() => cleanup());

const fresh = () => join(base, `case-${++n}`);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('claimFreshRoot', () => {
  test('a missing root is created with its parents, and discarding removes the topmost directory made', async () => {
    const parent = fresh();
    const root = join(parent, 'a', 'b');
    const claim = await claimFreshRoot(root);
    assert.equal(claim.root, root);
    assert.equal(claim.created, parent);
    await writeFile(join(root, 'something'), 'x');
    await discardFreshRoot(claim);
    assert.equal(await exists(parent), false);
  });

  test('an empty directory is taken as it is, and discarding empties it again', async () => {
    const root = fresh();
    await mkdir(root);
    const claim = await claimFreshRoot(root);
    assert.equal(claim.created, undefined);
    await mkdir(join(root, 'versions', '1.0.0'), { recursive: true });
    await writeFile(join(root, 'install.json'), '{}');
    await discardFreshRoot(claim);
    assert.deepEqual(await readdir(root), []);
  });

  const refusals: [string, (root: string) => Promise<unknown>, string][] = [
    [
      'a directory with files',
      async (root) => {
        await mkdir(root);
        await writeFile(join(root, 'mine.txt'), 'x');
      },
      'INSTALL_ROOT_NOT_EMPTY',
    ],
    ['a file', (root) => writeFile(root, 'x'), 'INSTALL_ROOT_NOT_EMPTY'],
    [
      'a versioned root',
      async (root) => {
        const release = await makeRelease(`${root}-src`, '1.0.0');
        await mkdir(root);
        await installVersion(root, release.dir, '1.0.0');
      },
      'ALREADY_INSTALLED',
    ],
    [
      'a damaged versioned root',
      async (root) => {
        await mkdir(root);
        await writeFile(join(root, 'install.json'), '{"format": 1');
      },
      'INSTALL_ROOT_NOT_EMPTY',
    ],
  ];
  for (const [what, make, code] of refusals) {
    test(`refuses ${what} (${code}) and changes nothing`, async () => {
      const root = fresh();
      await make(root);
      const before = (await stat(root)).isDirectory() ? await snapshot(root) : undefined;
      await assert.rejects(
        claimFreshRoot(root),
        (err: unknown) => isNotsotufError(err, code as 'ALREADY_INSTALLED') && err.hint !== undefined,
      );
      if (before) assert.deepEqual(await snapshot(root), before);
    });
  }
});
