/**
 * One PATCH_INVALID factory with one hint (the format helpers only add a prefix), and patch operations that end
 * on a foreign error: a file-system error is IO_ERROR, a bug is INTERNAL_ERROR (it was IO_ERROR before).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERROR_CODES, NotsotufError } from '../../src/core/errors.js';
import { bzip2Invalid } from '../../src/patch/bzip2/format.js';
import { lzmaInvalid } from '../../src/patch/lzma/format.js';
import { invalidPatch } from '../../src/patch/notsotuf/format.js';
import { patchFailure, patchInvalid } from '../../src/patch/patch-errors.js';

describe('PATCH_INVALID', () => {
  const made: [string, NotsotufError][] = [
    ['patchInvalid', patchInvalid('bsdiff diff block ends early', { built: 3 })],
    ['notsotuf format', invalidPatch('a stream is truncated', new Error('eof'))],
    ['LZMA stream', lzmaInvalid('the header is truncated')],
    ['bzip2 stream', bzip2Invalid('bad block magic', { block: 2 })],
  ];
  for (const [name, err] of made) {
    test(`${name}: PATCH_INVALID with the one hint`, () => {
      assert.equal(err.code, 'PATCH_INVALID');
      assert.equal(err.hint, ERROR_CODES.PATCH_INVALID.hint);
    });
  }

  test('details and cause are kept', () => {
    const [bsdiff, notsotuf, , bzip2] = made.map(([, err]) => err);
    assert.deepEqual(bsdiff?.details, { built: 3 });
    assert.equal(notsotuf?.cause instanceof Error && notsotuf.cause.message, 'eof');
    assert.deepEqual(bzip2?.details, { block: 2 });
  });
});

describe('patchFailure', () => {
  const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC', syscall: 'write' });
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
  const mine = new NotsotufError('PATCH_RESULT_MISMATCH', 'wrong result');
  const rows: [string, unknown, string][] = [
    ['a NotsotufError', mine, 'PATCH_RESULT_MISMATCH'],
    ['ENOSPC', enospc, 'IO_ERROR'],
    ['an AbortError', abort, 'ABORTED'],
    ['a TypeError (a bug)', new TypeError('x is undefined'), 'INTERNAL_ERROR'],
  ];
  for (const [name, err, code] of rows) {
    test(`${name} → ${code}`, () => {
      const e = patchFailure('write', '/out.patch', err);
      assert.equal(e.code, code);
      if (err instanceof NotsotufError) assert.equal(e, err);
      else assert.equal(e.cause, err);
    });
  }

  test('IO_ERROR names the path and the errno, with the disk-full hint', () => {
    const e = patchFailure('write', '/out.patch', enospc);
    assert.equal(e.message, 'could not write /out.patch');
    assert.equal(e.path, '/out.patch');
    assert.deepEqual(e.details, { code: 'ENOSPC' });
    assert.match(e.hint ?? '', /disk is full/);
  });
});
