/** The CLI's exit code for each kind of failure: 64 bad usage, 70 a bug in notsotuf, 1 anything else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { usageError } from '../../src/cli/usage-error.js';
import { NotsotufError } from '../../src/core/errors.js';
import { wrapForeignError } from '../../src/core/foreign-error.js';

const rows: { name: string; err: NotsotufError; exit: number }[] = [
  { name: 'a usage error', err: usageError('--retries must be a number.'), exit: EXIT.USAGE },
  { name: 'a failure', err: new NotsotufError('DOWNLOAD_FAILED', 'no mirror'), exit: EXIT.FAILURE },
  {
    name: 'an errno error',
    err: wrapForeignError(Object.assign(new Error('x'), { code: 'ENOSPC' }), 'x'),
    exit: 1,
  },
  {
    name: 'a bug (a TypeError)',
    err: wrapForeignError(new TypeError('x is undefined'), 'x'),
    exit: EXIT.INTERNAL,
  },
];
for (const row of rows) {
  test(`${row.name} → exit ${row.exit}`, () => assert.equal(exitCodeFor(row.err), row.exit));
}

test('INTERNAL is EX_SOFTWARE (70), as USAGE is EX_USAGE (64)', () => {
  assert.deepEqual([EXIT.INTERNAL, EXIT.USAGE], [70, 64]);
});
