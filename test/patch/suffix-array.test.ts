/** The SA-IS suffix array against a naive sort, on random, repetitive and adversarial inputs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildSuffixArray } from '../../src/patch/index.js';
import { pseudoRandom } from './helpers.js';

/** Suffix order by direct comparison; a suffix that is a prefix of another sorts first. */
function naiveSuffixArray(t: Uint8Array): number[] {
  const idx = Array.from({ length: t.length }, (_, i) => i);
  return idx.sort((a, b) => {
    while (a < t.length && b < t.length) {
      if (t[a] !== t[b]) return t[a]! - t[b]!;
      a++;
      b++;
    }
    return a === t.length ? -1 : 1;
  });
}

function check(t: Uint8Array): void {
  assert.deepEqual(Array.from(buildSuffixArray(t)), naiveSuffixArray(t));
}

describe('buildSuffixArray', () => {
  const table: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['two equal', Uint8Array.of(1, 1)],
    ['banana', new TextEncoder().encode('banana')],
    ['mississippi', new TextEncoder().encode('mississippi')],
    ['all zeros', new Uint8Array(1000)],
    ['all 0xff', new Uint8Array(1000).fill(255)],
    ['period 2', Uint8Array.from({ length: 999 }, (_, i) => i % 2)],
    ['period 7', Uint8Array.from({ length: 1000 }, (_, i) => (i % 7) * 30)],
    ['descending', Uint8Array.from({ length: 256 }, (_, i) => 255 - i)],
    ['ascending', Uint8Array.from({ length: 256 }, (_, i) => i)],
    ['fibonacci word', fibonacciWord(2000)],
    ['random', pseudoRandom(3000, 5)],
    ['random 2 symbols', pseudoRandom(3000, 9).map((b) => b & 1)],
  ];
  for (const [name, input] of table) test(name, () => check(input));

  test('property: matches the naive sort on small alphabets (deep recursion) and full bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 256 }), (data, k) => {
        check(data.map((b) => b % k));
      }),
      { numRuns: 300 },
    );
  });

  test('repetitive input with long repeats (1 MB) is sorted', () => {
    const unit = pseudoRandom(1000, 3);
    const t = new Uint8Array(1 << 20);
    for (let i = 0; i < t.length; i += unit.length) t.set(unit.subarray(0, t.length - i), i);
    t[500_000] = 42;
    const sa = buildSuffixArray(t);
    assert.equal(sa.length, t.length);
    assertSorted(t, sa);
  });
});

/**
 * Linear-time check that `sa` is the suffix array of `t` (comparing suffixes directly is quadratic on repeats):
 * a permutation in which each adjacent pair has a smaller first byte, or an equal one and a smaller rank for the
 * suffixes that follow.
 */
function assertSorted(t: Uint8Array, sa: Int32Array): void {
  const rank = new Int32Array(t.length + 1).fill(-1);
  for (let i = 0; i < sa.length; i++) {
    assert.equal(rank[sa[i]!], -1, 'a permutation');
    rank[sa[i]!] = i;
  }
  rank[t.length] = -1;
  for (let i = 1; i < sa.length; i++) {
    const a = sa[i - 1]!;
    const b = sa[i]!;
    const ok = t[a]! < t[b]! || (t[a] === t[b] && rank[a + 1]! < rank[b + 1]!);
    assert.ok(ok, `order at ${i}`);
  }
}

/** Fibonacci words are a classic worst case for suffix sorting (many long repeats). */
function fibonacciWord(n: number): Uint8Array {
  let a = 'a';
  let b = 'ab';
  while (b.length < n) [a, b] = [b, b + a];
  return new TextEncoder().encode(b.slice(0, n));
}
