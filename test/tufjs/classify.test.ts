/**
 * How tuf-js failures map to notsotuf codes: real error instances of tuf-js 5 and @tufjs/models 4 (their own
 * classes, or errors the libraries throw themselves), one table row each. The snapshot and targets rows are wrapped
 * exactly as tuf-js's Updater wraps them, which the last test checks against tuf-js's own code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { Metadata, MetadataKind, Root, Timestamp } from '@tufjs/models';
import * as models from '@tufjs/models/dist/error.js';
import * as tuf from 'tuf-js/dist/error.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { classifyTufError, type TufStage } from '../../src/tufjs/index.js';

/** What tuf-js 5's Updater throws when loading snapshot (or targets) metadata fails: `error` pasted as text. */
const wrapSnapshot = (error: unknown) =>
  new tuf.RuntimeError(`Unable to load snapshot metadata error ${error}`);
const wrapTargets = (error: unknown) => new tuf.RuntimeError(`Unable to load targets error ${error}`);

/** The error @tufjs/models throws itself for a `signed` part it cannot load. */
function thrownByFromJSON(signed: Record<string, unknown>): unknown {
  try {
    Metadata.fromJSON(MetadataKind.Timestamp, { signed: { _type: 'timestamp', ...signed }, signatures: [] });
  } catch (err) {
    return err;
  }
  assert.fail('Metadata.fromJSON accepted it');
}

const TIMESTAMP_FIELDS = {
  version: 1,
  expires: '2030-01-01T00:00:00Z',
  meta: { 'snapshot.json': { version: 1 } },
};
const unsupportedSpec = thrownByFromJSON({ ...TIMESTAMP_FIELDS, spec_version: '2.0.0' });
const noVersion = thrownByFromJSON({ spec_version: '1.0.31', expires: TIMESTAMP_FIELDS.expires, meta: {} });
const badVersionType = thrownByFromJSON({ ...TIMESTAMP_FIELDS, spec_version: '1.0.31', version: 'one' });
/** One key's signature twice, to count it twice towards a threshold: a ValueError of Metadata.fromJSON. */
const signedTwice = (() => {
  const sig = { keyid: 'ab12', sig: '00' };
  try {
    Metadata.fromJSON(MetadataKind.Timestamp, {
      signed: { _type: 'timestamp', spec_version: '1.0.31', ...TIMESTAMP_FIELDS },
      signatures: [sig, sig],
    });
  } catch (err) {
    return err;
  }
  return assert.fail('Metadata.fromJSON accepted a keyid signing twice');
})();

/** A timestamp checked against a root whose timestamp role has no key: @tufjs/models' own UnsignedMetadataError. */
const unsigned = (() => {
  const base = { version: 1, specVersion: '1.0.31', expires: '2030-01-01T00:00:00Z' };
  const timestamp = new Metadata(new Timestamp(base));
  try {
    new Metadata(new Root(base)).verifyDelegate('timestamp', timestamp);
  } catch (err) {
    return err;
  }
  return assert.fail('verifyDelegate accepted an unsigned timestamp');
})();

const syntaxError = (() => {
  try {
    JSON.parse('{"signed": ');
  } catch (err) {
    return err;
  }
  return assert.fail('JSON.parse accepted it');
})();

const ROWS: readonly { name: string; error: unknown; stage?: TufStage; expected: ErrorCode }[] = [
  // Thrown as they are (root and timestamp steps, target downloads).
  {
    name: 'expired final root',
    error: new tuf.ExpiredMetadataError('Final root.json is expired'),
    expected: 'METADATA_EXPIRED',
  },
  {
    name: 'root N+1 with another version',
    error: new tuf.BadVersionError('Expected version 3, got 2'),
    expected: 'METADATA_ROLLBACK',
  },
  {
    name: 'timestamp older than trusted',
    error: new tuf.BadVersionError('New timestamp version 4 is less than current version 5'),
    expected: 'METADATA_ROLLBACK',
  },
  {
    name: 'equal version (a subclass of BadVersionError)',
    error: new tuf.EqualVersionError('New timestamp version 5 is equal to current version 5'),
    expected: 'METADATA_ROLLBACK',
  },
  {
    name: 'below the signature threshold (thrown by models)',
    error: unsigned,
    expected: 'METADATA_SIGNATURE_INVALID',
  },
  {
    name: 'an unsupported specVersion is invalid metadata, not a rollback',
    error: unsupportedSpec,
    expected: 'METADATA_INVALID',
  },
  { name: '"version is not defined" is not a rollback', error: noVersion, expected: 'METADATA_INVALID' },
  { name: 'a keyid signing twice (ValueError)', error: signedTwice, expected: 'METADATA_SIGNATURE_INVALID' },
  {
    name: 'another ValueError only mentioning signatures',
    error: new models.ValueError('no signatures here; multiple signatures found for keyid: ab12'),
    expected: 'METADATA_INVALID',
  },
  { name: 'a version of the wrong type (TypeError)', error: badVersionType, expected: 'METADATA_INVALID' },
  { name: 'not JSON (SyntaxError)', error: syntaxError, expected: 'METADATA_INVALID' },
  {
    name: 'wrong _type',
    error: new tuf.RepositoryError("Expected 'root', got timestamp"),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'unsupported key type',
    error: new models.UnsupportedAlgorithmError('Unsupported key type: dsa'),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'tuf-js fetcher: endless data',
    error: new tuf.DownloadLengthMismatchError('Max length reached'),
    expected: 'DOWNLOAD_TOO_LARGE',
  },
  {
    name: 'tuf-js fetcher: HTTP error',
    error: new tuf.DownloadHTTPError('Failed to download', 500),
    expected: 'DOWNLOAD_FAILED',
  },
  {
    name: 'cache not writable',
    error: new tuf.PersistError('Failed to persist metadata timestamp error: EACCES'),
    expected: 'IO_ERROR',
  },
  {
    name: 'target with a wrong hash',
    error: new models.LengthOrHashMismatchError('Expected hash aa but got bb'),
    stage: 'download',
    expected: 'TARGET_VERIFY_FAILED',
  },
  {
    name: 'metadata with a wrong length (refresh)',
    error: new models.LengthOrHashMismatchError('Expected length 10 but got 12'),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'call-order RuntimeError (not a wrapper)',
    error: new tuf.RuntimeError('Cannot update snapshot before timestamp'),
    expected: 'METADATA_INVALID',
  },
  { name: 'unknown error, refresh', error: new Error('something else'), expected: 'METADATA_INVALID' },
  {
    name: 'unknown error, download',
    error: new Error('something else'),
    stage: 'download',
    expected: 'TARGET_VERIFY_FAILED',
  },
  { name: 'not an Error at all', error: 'a version string', expected: 'METADATA_INVALID' },
  // Wrapped by loadSnapshot / loadTargets: only the text of the original is left.
  {
    name: 'wrapped: expired snapshot',
    error: wrapSnapshot(new tuf.ExpiredMetadataError('snapshot.json is expired')),
    expected: 'METADATA_EXPIRED',
  },
  {
    name: 'wrapped: expired delegated role',
    error: wrapTargets(new tuf.ExpiredMetadataError('team-a.json is expired')),
    expected: 'METADATA_EXPIRED',
  },
  {
    name: 'wrapped: snapshot names an older targets',
    error: wrapSnapshot(
      new tuf.BadVersionError('New version 3 of targets.json is less than current version 4'),
    ),
    expected: 'METADATA_ROLLBACK',
  },
  {
    name: 'wrapped: targets version differs from the snapshot',
    error: wrapTargets(new tuf.BadVersionError('Version 2 of targets does not match snapshot version 3')),
    expected: 'METADATA_ROLLBACK',
  },
  {
    name: 'wrapped: snapshot version differs from the timestamp',
    error: wrapSnapshot(new tuf.BadVersionError("Snapshot version doesn't match timestamp")),
    expected: 'METADATA_ROLLBACK',
  },
  { name: 'wrapped: unsigned', error: wrapSnapshot(unsigned), expected: 'METADATA_SIGNATURE_INVALID' },
  {
    name: 'wrapped: bad signature',
    error: wrapTargets(new models.UnsignedMetadataError('failed to verify abc123 signature')),
    expected: 'METADATA_SIGNATURE_INVALID',
  },
  {
    name: 'wrapped: a keyid signing twice',
    error: wrapTargets(signedTwice),
    expected: 'METADATA_SIGNATURE_INVALID',
  },
  {
    name: 'wrapped: an unsupported specVersion is not a rollback',
    error: wrapSnapshot(unsupportedSpec),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'wrapped: "version is not defined" is not a rollback',
    error: wrapTargets(noVersion),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'wrapped: a TypeError that reads like a version message',
    error: wrapSnapshot(new TypeError('Version 2 of targets does not match snapshot version 3')),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'wrapped: a message only mentioning expiry is not anchored to the template',
    error: wrapSnapshot(new Error('targets.json is expired, says the mirror')),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'wrapped: hash mismatch of metadata',
    error: wrapSnapshot(new models.LengthOrHashMismatchError('Expected hash aa but got bb')),
    expected: 'METADATA_INVALID',
  },
  {
    name: 'wrapped: endless data from tuf-js fetcher',
    error: wrapTargets(new tuf.DownloadLengthMismatchError('Max length reached')),
    expected: 'DOWNLOAD_TOO_LARGE',
  },
];

describe('classifyTufError', () => {
  for (const row of ROWS) {
    test(row.name, () => {
      assert.equal(classifyTufError(row.error, row.stage ?? 'refresh'), row.expected);
    });
  }

  test('the wrappers read are the ones tuf-js has', () => {
    const updater = createRequire(import.meta.url).resolve('tuf-js/dist/updater.js');
    const source = readFileSync(updater, 'utf8');
    assert.match(source, /`Unable to load snapshot metadata error \$\{error\}`/);
    assert.match(source, /`Unable to load targets error \$\{error\}`/);
  });
});
