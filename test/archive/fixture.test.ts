/** Our archive of a tufup fixture bundle holds the same members as the archive tufup published for it. */
import assert from 'node:assert/strict';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createArchive } from '../../src/archive/index.js';
import { FIXTURE_DIR, gnuTarListing, pythonMembers, tempDir } from './helpers.js';

describe('tufup fixture v0.10', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  for (const version of ['1.0', '2.0', '3.0rc1', '3.0']) {
    test(`bundles/${version} archives to the members of example_app-${version}.tar.gz`, async () => {
      const bundle = join(FIXTURE_DIR, 'bundles', version);
      // The fixture's symlink must be a real symlink, or this test compares the wrong thing.
      assert.ok(
        (await lstat(join(bundle, 'example_app'))).isSymbolicLink(),
        'fixture example_app is a symlink',
      );
      const published = join(FIXTURE_DIR, 'repository', 'targets', `example_app-${version}.tar.gz`);
      const ours = join(dir, `example_app-${version}.tar.gz`);
      const result = await createArchive({ bundleDir: bundle, outFile: ours, mtime: 1704110400 });

      const facts = (archive: string) =>
        pythonMembers(archive).map((m) => ({
          name: m.name,
          type: m.type,
          mode: m.mode.toString(8),
          size: m.size,
          linkname: m.linkname,
          owner: `${m.uname}/${m.gname} ${m.uid}/${m.gid}`,
        }));
      assert.deepEqual(facts(ours), facts(published));
      assert.equal(result.entries, facts(published).length);

      // tufup stamped its files with their own mtime (differing per release); only 1.0's is 1704110400.
      const strip = (l: string) => l.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d /, ' ');
      assert.deepEqual(gnuTarListing(ours).map(strip), gnuTarListing(published).map(strip));
      if (version === '1.0') assert.deepEqual(gnuTarListing(ours), gnuTarListing(published));
    });
  }
});
