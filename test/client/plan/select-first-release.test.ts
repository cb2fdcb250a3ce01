/** selectFirstRelease: which release a first install takes (pure; name, input, expected version or code). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selectFirstRelease } from '../../../src/client/plan/select-first-release.js';
import type { Channel } from '../../../src/client/plan/select-release.js';
import { buildArchiveCustom } from '../../../src/core/custom-metadata.js';
import { isNotsotufError } from '../../../src/core/errors.js';
import { groupReleases, type TargetEntry } from '../../../src/core/releases.js';
import { parseVersion } from '../../../src/core/version.js';

const HASH = '0'.repeat(64);

/** Targets from names: `app-1.0.0.tar.gz` (an archive, `!` suffix: required) or `app-1.0.0.patch`. */
function grouped(names: readonly string[]) {
  const entries: TargetEntry[] = names.map((raw) => {
    const required = raw.endsWith('!');
    const name = required ? raw.slice(0, -1) : raw;
    return {
      name,
      length: 10,
      hashes: { sha256: HASH },
      ...(name.endsWith('.tar.gz') ? { custom: buildArchiveCustom({ required }) } : {}),
    };
  });
  return groupReleases(entries);
}

const REPO = [
  'app-1.0.0.tar.gz',
  'app-1.1.0.tar.gz!',
  'app-1.1.0.patch',
  'app-1.2.0.tar.gz',
  'app-1.3.0rc1.tar.gz',
  'app-1.4.0.patch', // a patch without its archive cannot be a first install
  'other-9.0.0.tar.gz',
];

const ROWS: readonly {
  name: string;
  targets?: readonly string[];
  app?: string;
  channel?: Channel;
  version?: string;
  expected: string;
}[] = [
  { name: 'the newest final; a required release is no reason to stop there', expected: '1.2.0' },
  { name: 'channel rc takes the newest pre-release', channel: 'rc', expected: '1.3.0rc1' },
  { name: 'a version asked for, in another spelling', version: '1.0', expected: '1.0.0' },
  { name: 'a version asked for ignores the channel', version: '1.3.0rc1', expected: '1.3.0rc1' },
  { name: 'a version with a patch but no archive', version: '1.4.0', expected: 'RELEASE_NOT_FOUND' },
  { name: 'a version not published', version: '2.0.0', expected: 'RELEASE_NOT_FOUND' },
  { name: 'an app the repository does not have', app: 'nope', expected: 'APP_NOT_FOUND' },
  {
    name: 'only pre-releases, channel final',
    targets: ['app-1.0.0rc1.tar.gz'],
    expected: 'RELEASE_NOT_FOUND',
  },
  { name: 'an empty repository', targets: [], expected: 'RELEASE_NOT_FOUND' },
];

describe('selectFirstRelease', () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const input = {
        grouped: grouped(row.targets ?? REPO),
        appName: row.app ?? 'app',
        channel: row.channel ?? 'final',
        ...(row.version ? { version: parseVersion(row.version) } : {}),
      };
      if (/^[A-Z_]+$/.test(row.expected)) {
        assert.throws(
          () => selectFirstRelease(input),
          (err: unknown) => isNotsotufError(err, row.expected as 'APP_NOT_FOUND') && err.hint !== undefined,
        );
      } else {
        const release = selectFirstRelease(input);
        assert.equal(release.version.raw, row.expected);
        assert.ok(release.archive.name.endsWith('.tar.gz'));
      }
    });
  }

  test('the errors list what can be installed', () => {
    try {
      selectFirstRelease({
        grouped: grouped(REPO),
        appName: 'app',
        channel: 'final',
        version: parseVersion('7'),
      });
      assert.fail('no error');
    } catch (err) {
      assert.ok(isNotsotufError(err, 'RELEASE_NOT_FOUND'));
      assert.deepEqual(err.details['versions'], ['1.0.0', '1.1.0', '1.2.0', '1.3.0rc1']);
    }
  });
});
