/**
 * OpsWriter's streams as data: literals put in the extra stream ahead of their INSERTs (preInsert, used for a
 * predicted file while its matches are found) give the same streams as inserting them in place.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { OpsWriter } from '../../src/patch/notsotuf/ops-writer.js';
import { concat, pseudoRandom } from './helpers.js';

type Streams = Record<'ops' | 'diffRuns' | 'diffBytes' | 'extra', Uint8Array>;

/** Runs `write` on a fresh writer and returns each stream's bytes. */
function streamsOf(write: (w: OpsWriter) => void): Streams {
  const parts = {
    ops: [] as Uint8Array[],
    diffRuns: [] as Uint8Array[],
    diffBytes: [] as Uint8Array[],
    extra: [] as Uint8Array[],
  };
  const w = new OpsWriter({
    ops: (c) => parts.ops.push(c.slice()),
    diffRuns: (c) => parts.diffRuns.push(c.slice()),
    diffBytes: (c) => parts.diffBytes.push(c.slice()),
    extra: (c) => parts.extra.push(c.slice()),
  });
  write(w);
  w.finish();
  return {
    ops: concat(...parts.ops),
    diffRuns: concat(...parts.diffRuns),
    diffBytes: concat(...parts.diffBytes),
    extra: concat(...parts.extra),
  };
}

describe('OpsWriter', () => {
  const old = pseudoRandom(200_000, 5);
  const a = pseudoRandom(70_000, 6);
  const b = pseudoRandom(90_000, 7);
  const near = Uint8Array.from(old.subarray(1000, 31_000), (x, i) => (i % 97 === 0 ? x ^ 1 : x));
  const body = (w: OpsWriter) => {
    w.insert(a.subarray(0, 40_000));
    w.approximate(old, 1000, near);
    w.insert(a.subarray(40_000));
    w.copy(50_000, 10_000);
    w.insert(b);
  };

  test('literals pre-inserted, in one piece or many, give the same streams as inserting them in place', () => {
    const inPlace = streamsOf(body);
    assert.equal(inPlace.extra.length, a.length + b.length);
    const whole = streamsOf((w) => {
      w.preInsert(concat(a, b));
      body(w);
    });
    const cut = streamsOf((w) => {
      w.preInsert(a.subarray(0, 12_345));
      w.preInsert(a.subarray(12_345));
      w.preInsert(b.subarray(0, 5));
      body(w);
    });
    assert.deepEqual(whole, inPlace);
    assert.deepEqual(cut, inPlace);
  });

  test('pre-inserted bytes that are never output are an internal error, not a silently wrong patch', () => {
    assert.throws(
      () =>
        streamsOf((w) => {
          w.preInsert(a);
          w.insert(a.subarray(0, 10));
        }),
      (e) => isNotsotufError(e, 'INTERNAL_ERROR'),
    );
  });
});
