/**
 * fromTufError: a failure of our own fetcher comes back as the fetcher reported it, whether tuf-js let it through,
 * wrapped it into a RuntimeError's text, or got the DownloadHTTPError the fetcher throws for a missing file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tuf from 'tuf-js/dist/error.js';
import { NotsotufError } from '../../src/core/errors.js';
import { fileNotThereError, fromTufError } from '../../src/tufjs/index.js';

const URL = 'https://example.com/metadata/7.snapshot.json';
const notThere = new NotsotufError('DOWNLOAD_FAILED', `${URL} is not there (HTTP 404).`, {
  details: { url: URL, status: 404 },
});
const stalled = new NotsotufError('DOWNLOAD_STALLED', `Download of ${URL} stalled.`, {
  details: { url: URL },
});
const wrap = (error: unknown) => new tuf.RuntimeError(`Unable to load snapshot metadata error ${error}`);

describe('fromTufError', () => {
  test('the fetcher error for a missing file is tuf-js’s own DownloadHTTPError (it ends the root walk)', () => {
    const err = fileNotThereError(`${URL}: HTTP 404`, 404);
    assert.ok(err instanceof tuf.DownloadHTTPError);
    assert.equal((err as tuf.DownloadHTTPError).statusCode, 404);
  });

  test('a NotsotufError is returned as it is', () => {
    assert.equal(fromTufError(stalled, 'refresh'), stalled);
  });

  test('the missing-file error, direct or wrapped, gives back the fetcher’s failure', () => {
    const direct = fileNotThereError(`${URL}: HTTP 404`, 404);
    assert.equal(fromTufError(direct, 'refresh', notThere), notThere);
    assert.equal(fromTufError(wrap(direct), 'refresh', notThere), notThere);
  });

  test('the fetcher’s NotsotufError wrapped by tuf-js gives back the fetcher’s failure', () => {
    assert.equal(fromTufError(wrap(stalled), 'refresh', stalled), stalled);
  });

  test('an error that is not the fetcher’s last failure is classified, with the original as cause', () => {
    const other = new tuf.ExpiredMetadataError('snapshot.json is expired');
    const error = fromTufError(wrap(other), 'refresh', stalled);
    assert.equal(error.code, 'METADATA_EXPIRED');
    assert.match(error.message, /^Updating the trusted metadata failed: Unable to load snapshot metadata/);
    assert.ok(error.hint);
    assert.ok(error.cause instanceof tuf.RuntimeError);
  });

  test('another URL’s missing file is a DOWNLOAD_FAILED with its status', () => {
    const err = new tuf.DownloadHTTPError('https://elsewhere.example/x.json: HTTP 403', 403);
    const error = fromTufError(err, 'refresh', notThere);
    assert.equal(error.code, 'DOWNLOAD_FAILED');
    assert.equal(error.details['status'], 403);
    assert.equal(error.cause, err);
  });

  test('a target’s hash mismatch while downloading → TARGET_VERIFY_FAILED', () => {
    const error = fromTufError(new Error('plain'), 'download');
    assert.equal(error.code, 'TARGET_VERIFY_FAILED');
    assert.match(error.message, /^Downloading a target failed: plain$/);
  });
});
