/**
 * A real tuf-js client accepts what the publisher writes: both layouts (consistent snapshots, the default, and
 * tufup's plain layout), over HTTP, starting from the first root.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createTestRepo,
  listDir,
  makeTempDir,
  readJson,
  readSigned,
  sha256File,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import { assertClientAccepts } from '../helpers/tuf-client.js';

const USER_META = { changes: ['settings format 2', 'faster start'], build: 42, notes: { lang: 'en' } };

interface MetaFileJson {
  version: number;
  length: number;
  hashes: Record<string, string>;
}

for (const consistent of [true, false]) {
  describe(`tuf-js acceptance, ${consistent ? 'consistent snapshots (default)' : 'consistentSnapshot: false'}`, () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ dir, cleanup } = await makeTempDir());
    });
    after(() => cleanup());

    test('two releases: a client trusting 1.root.json downloads both, with custom metadata', async () => {
      const r = await createTestRepo(join(dir, 'repo'), consistent ? {} : { consistentSnapshot: false });
      const repo = await r.open();
      const first = await repo.addRelease({
        bundleDir: await writeBundle(join(dir, 'b1'), { 'README.txt': 'one\n' }),
        version: '1.0.0',
      });
      const second = await repo.addRelease({
        bundleDir: await writeBundle(join(dir, 'b2'), { 'README.txt': 'two\n', 'lib/new.txt': 'new\n' }),
        version: '1.1.0',
        required: true,
        userMeta: USER_META,
      });
      assert.equal(first.release.archive.name, 'app-1.0.0.tar.gz');
      assert.equal(second.release.archive.name, 'app-1.1.0.tar.gz');
      assert.equal(first.result.staged, false);
      assert.deepEqual(second.result.versions, { targets: 3, snapshot: 3, timestamp: 3 });

      const names = ['app-1.0.0.tar.gz', 'app-1.1.0.tar.gz'];
      const client = await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), names);
      assert.equal(client.rootVersion, 1);
      assert.equal(client.targetsVersion, 3);

      // What the client received is what addRelease reported.
      for (const [name, added] of [
        [names[0]!, first.release],
        [names[1]!, second.release],
      ] as const) {
        const info = client.infos.get(name)!;
        assert.equal(info.length, added.archive.length);
        assert.equal(info.hashes['sha256'], added.archive.sha256);
        assert.equal(client.files.get(name)!.length, added.archive.length);
      }

      // tufup's custom metadata (exactly user + tufup, so tufup's client reads it), notsotuf's tar facts inside tufup.
      assert.deepEqual(client.infos.get(names[0]!)!.custom, {
        user: null,
        tufup: {
          required: false,
          notsotuf: { tar_size: first.release.archive.tarSize, tar_hash: first.release.archive.tarSha256 },
        },
      });
      const custom2 = client.infos.get(names[1]!)!.custom as Record<string, unknown>;
      assert.deepEqual(Object.keys(custom2).sort(), ['tufup', 'user']);
      assert.deepEqual(custom2['user'], USER_META);
      assert.deepEqual(custom2['tufup'], {
        required: true,
        notsotuf: { tar_size: second.release.archive.tarSize, tar_hash: second.release.archive.tarSha256 },
      });

      // The layout a client sees: which metadata names it asked for.
      const metaRequests = client.requests.filter((p) => p.startsWith('/metadata/'));
      if (consistent) {
        assert.deepEqual(metaRequests, [
          '/metadata/2.root.json',
          '/metadata/timestamp.json',
          '/metadata/3.snapshot.json',
          '/metadata/3.targets.json',
        ]);
      } else {
        assert.deepEqual(metaRequests, [
          '/metadata/2.root.json',
          '/metadata/timestamp.json',
          '/metadata/snapshot.json',
          '/metadata/targets.json',
        ]);
      }

      const report = await repo.verify();
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
      const targetsJson = await readSigned(join(r.metadataDir, 'targets.json'));
      assert.equal(report.targetsChecked, Object.keys(targetsJson['targets'] as object).length);
    });

    test('snapshot and timestamp meta carry version, length and sha256 of the files', async () => {
      const r = await createTestRepo(join(dir, 'meta'), consistent ? {} : { consistentSnapshot: false });
      const repo = await r.open();
      await repo.addRelease({ bundleDir: await writeBundle(join(dir, 'meta-b')), version: '1.0.0' });
      const md = r.metadataDir;

      const snapshot = await readSigned(join(md, 'snapshot.json'));
      const timestamp = await readSigned(join(md, 'timestamp.json'));
      const targetsMeta = (snapshot['meta'] as Record<string, MetaFileJson>)['targets.json']!;
      const snapshotMeta = (timestamp['meta'] as Record<string, MetaFileJson>)['snapshot.json']!;

      const targetsFile = join(md, consistent ? '2.targets.json' : 'targets.json');
      const snapshotFile = join(md, consistent ? '2.snapshot.json' : 'snapshot.json');
      assert.deepEqual(targetsMeta, {
        version: 2,
        length: (await readFile(targetsFile)).length,
        hashes: { sha256: await sha256File(targetsFile) },
      });
      assert.deepEqual(snapshotMeta, {
        version: 2,
        length: (await readFile(snapshotFile)).length,
        hashes: { sha256: await sha256File(snapshotFile) },
      });
      assert.equal(snapshot.version, 2);
      assert.equal(timestamp.version, 2);

      const files = await listDir(md);
      if (consistent) {
        // Versioned copies of every version, and the unversioned names equal the latest.
        for (const name of ['1.targets.json', '2.targets.json', '1.snapshot.json', '2.snapshot.json'])
          assert.ok(files.includes(name), `${name} exists`);
        assert.deepEqual(
          await readFile(join(md, 'targets.json')),
          await readFile(join(md, '2.targets.json')),
        );
        assert.deepEqual(
          await readFile(join(md, 'snapshot.json')),
          await readFile(join(md, '2.snapshot.json')),
        );
        const sha = (
          await readJson<{ signed: { targets: Record<string, { hashes: { sha256: string } }> } }>(targetsFile)
        ).signed.targets['app-1.0.0.tar.gz']!.hashes.sha256;
        assert.ok((await listDir(r.targetsDir)).includes(`${sha}.app-1.0.0.tar.gz`));
      } else {
        assert.deepEqual(files, [
          '1.root.json',
          'root.json',
          'snapshot.json',
          'targets.json',
          'timestamp.json',
        ]);
        assert.ok((await listDir(r.targetsDir)).includes('app-1.0.0.tar.gz'));
        assert.equal((await readSigned(join(md, 'root.json')))['consistent_snapshot'], false);
      }
    });
  });
}
