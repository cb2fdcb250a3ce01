/**
 * How foreign errors become NotsotufErrors: an errno error is IO_ERROR with a hint chosen by its errno, an abort is
 * ABORTED, anything else (a bug) is INTERNAL_ERROR that says so. Before, every foreign error was IO_ERROR with a
 * "disk full?" hint, a TypeError included.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aborted, checkAborted, isAbortError } from '../../src/core/aborted.js';
import { ERROR_CODES, type ErrorCode, NotsotufError } from '../../src/core/errors.js';
import { errnoCodeOf, errnoHint, internalError, wrapForeignError } from '../../src/core/foreign-error.js';

/** An error as Node's fs functions throw it. */
function errno(code: string, syscall = 'open', path = '/data/file'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall} '${path}'`), {
    code,
    errno: -1,
    syscall,
    path,
  });
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

describe('wrapForeignError', () => {
  const rows: { name: string; err: unknown; code: ErrorCode; hint: RegExp }[] = [
    { name: 'ENOSPC', err: errno('ENOSPC', 'write'), code: 'IO_ERROR', hint: /disk is full/ },
    { name: 'EDQUOT', err: errno('EDQUOT', 'write'), code: 'IO_ERROR', hint: /quota/ },
    { name: 'EFBIG (ulimit -f)', err: errno('EFBIG', 'write'), code: 'IO_ERROR', hint: /ulimit -f/ },
    { name: 'EACCES', err: errno('EACCES', 'mkdir'), code: 'IO_ERROR', hint: /Permission denied/ },
    { name: 'EPERM', err: errno('EPERM', 'rename'), code: 'IO_ERROR', hint: /not permitted/ },
    { name: 'EROFS', err: errno('EROFS', 'open'), code: 'IO_ERROR', hint: /read-only/ },
    { name: 'EMFILE', err: errno('EMFILE', 'open'), code: 'IO_ERROR', hint: /ulimit -n/ },
    { name: 'EBUSY', err: errno('EBUSY', 'rmdir'), code: 'IO_ERROR', hint: /in use/ },
    { name: 'ENOENT', err: errno('ENOENT', 'stat'), code: 'IO_ERROR', hint: /missing/ },
    { name: 'EIO', err: errno('EIO', 'read'), code: 'IO_ERROR', hint: /read or write error/ },
    {
      name: 'an errno without its own hint',
      err: errno('EXDEV', 'rename'),
      code: 'IO_ERROR',
      hint: /disk is not full/,
    },
    { name: 'AbortError (a stream pipeline)', err: abortError(), code: 'ABORTED', hint: /cancelled/ },
    {
      name: 'AbortError (a DOMException, as fetch throws it)',
      err: new DOMException('aborted', 'AbortError'),
      code: 'ABORTED',
      hint: /cancelled/,
    },
    {
      name: 'TypeError (a bug)',
      err: new TypeError("Cannot read properties of undefined (reading 'x')"),
      code: 'INTERNAL_ERROR',
      hint: /bug in notsotuf/,
    },
    {
      name: 'RangeError (a bug)',
      err: new RangeError('Invalid array length'),
      code: 'INTERNAL_ERROR',
      hint: /report/,
    },
    {
      name: "Node's ERR_ codes are not errno: a bad argument is a bug",
      err: Object.assign(new TypeError('The "path" argument must be of type string'), {
        code: 'ERR_INVALID_ARG_TYPE',
      }),
      code: 'INTERNAL_ERROR',
      hint: /bug/,
    },
    { name: 'a thrown string', err: 'oops', code: 'INTERNAL_ERROR', hint: /bug/ },
    { name: 'undefined', err: undefined, code: 'INTERNAL_ERROR', hint: /bug/ },
  ];
  for (const row of rows) {
    test(`${row.name} → ${row.code}`, () => {
      const e = wrapForeignError(row.err, 'The update');
      assert.equal(e.code, row.code);
      assert.match(e.hint ?? '', row.hint);
      assert.equal(e.cause, row.err, 'the original error is the cause');
    });
  }

  test('IO_ERROR names the errno, the syscall and the path; the message does not paste the foreign one', () => {
    const e = wrapForeignError(errno('ENOSPC', 'write', '/cache/x.tar'), 'The update');
    assert.equal(e.message, 'The update failed on a file operation (ENOSPC, /cache/x.tar).');
    assert.equal(e.path, '/cache/x.tar');
    assert.deepEqual(e.details, { errno: 'ENOSPC', syscall: 'write' });
  });

  test('ioMessage and path are used for an errno error without a path', () => {
    const err = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const e = wrapForeignError(err, 'Writing the archive', {
      ioMessage: 'Could not write a.tar.gz.',
      path: '/a.tar.gz',
    });
    assert.equal(e.message, 'Could not write a.tar.gz.');
    assert.equal(e.path, '/a.tar.gz');
    assert.deepEqual(e.details, { errno: 'ENOSPC' });
  });

  test('INTERNAL_ERROR says it is a bug, asks for a report and names the cause for toJSON()', () => {
    const bug = new TypeError('x is not a function');
    const e = wrapForeignError(bug, 'The update');
    assert.equal(e.message, 'The update failed unexpectedly. This is a bug in notsotuf; please report it.');
    assert.equal(e.hint, ERROR_CODES.INTERNAL_ERROR.hint);
    assert.equal(e.cause, bug);
    assert.deepEqual(e.toJSON()['details'], { cause: 'TypeError: x is not a function' });
  });

  test('a NotsotufError passes through unchanged', () => {
    const mine = new NotsotufError('DOWNLOAD_FAILED', 'no mirror');
    assert.equal(wrapForeignError(mine, 'The update'), mine);
    const controller = new AbortController();
    controller.abort();
    assert.equal(wrapForeignError(mine, 'The update', { signal: controller.signal }), mine);
  });

  test('once the signal fired, any foreign error is ABORTED (a custom reason is no AbortError)', () => {
    const controller = new AbortController();
    controller.abort(new Error('the user quit'));
    for (const err of [new Error('the user quit'), new TypeError('boom'), errno('ENOENT')]) {
      assert.equal(wrapForeignError(err, 'The update', { signal: controller.signal }).code, 'ABORTED');
    }
  });
});

describe('errno helpers', () => {
  const rows: [string, unknown, string | undefined][] = [
    ['fs error', errno('EACCES'), 'EACCES'],
    ['Node ERR_ code', Object.assign(new Error('x'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }), undefined],
    ['zlib code', Object.assign(new Error('x'), { code: 'Z_DATA_ERROR', errno: -3 }), undefined],
    ['numeric code', Object.assign(new Error('x'), { code: 5 }), undefined],
    ['no code', new Error('x'), undefined],
    ['null', null, undefined],
  ];
  for (const [name, err, expected] of rows) {
    test(`errnoCodeOf: ${name} → ${String(expected)}`, () => assert.equal(errnoCodeOf(err), expected));
  }

  test("errnoHint falls back to IO_ERROR's default hint", () => {
    assert.equal(errnoHint(undefined), ERROR_CODES.IO_ERROR.hint);
    assert.equal(errnoHint('EWHATEVER'), ERROR_CODES.IO_ERROR.hint);
    assert.notEqual(errnoHint('ENOSPC'), ERROR_CODES.IO_ERROR.hint);
  });

  test('internalError without a cause has no details', () => {
    const e = internalError('The patch plan covers 3 of 4 bytes.');
    assert.equal(e.code, 'INTERNAL_ERROR');
    assert.equal(e.cause, undefined);
    assert.deepEqual(e.details, {});
  });
});

describe('aborted / checkAborted', () => {
  test('aborted: the default hint unless one is given', () => {
    assert.equal(aborted().hint, ERROR_CODES.ABORTED.hint);
    assert.equal(aborted().message, 'The operation was aborted.');
    const e = aborted('Publishing was aborted.', {
      hint: 'Run it again; it resumes.',
      details: { url: 'u' },
    });
    assert.deepEqual(
      [e.code, e.message, e.hint, e.details],
      ['ABORTED', 'Publishing was aborted.', 'Run it again; it resumes.', { url: 'u' }],
    );
  });

  test('checkAborted throws ABORTED with the reason as cause, whatever the reason is', () => {
    assert.doesNotThrow(() => checkAborted(undefined));
    const controller = new AbortController();
    assert.doesNotThrow(() => checkAborted(controller.signal));
    const reason = new Error('quit');
    controller.abort(reason);
    assert.throws(
      () => checkAborted(controller.signal, 'The install was aborted.'),
      (e: unknown) =>
        e instanceof NotsotufError &&
        e.code === 'ABORTED' &&
        e.cause === reason &&
        e.message === 'The install was aborted.',
    );
  });

  test('isAbortError', () => {
    assert.equal(isAbortError(abortError()), true);
    assert.equal(isAbortError(new DOMException('x', 'AbortError')), true);
    assert.equal(isAbortError(new DOMException('x', 'TimeoutError')), false);
    assert.equal(isAbortError(new Error('AbortError')), false);
    assert.equal(isAbortError(null), false);
  });
});
