import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HashFinder } from '../../src/patch/notsotuf/hash-finder.js';
import { pseudoRandom } from './helpers.js';

const random = (size: number, seed: number) => Buffer.from(pseudoRandom(size, seed));

describe('HashFinder', () => {
  const old = random(50_000, 1);

  test('finds a copied block at its old offset, with its exact length', () => {
    const next = Buffer.concat([random(100, 2), old.subarray(30_000, 30_500), random(100, 3)]);
    const finder = new HashFinder(old, next);
    // A slot keeps the last position with its hash, so a few starts may be lost to collisions; one near the
    // start of the block is found, at the right old offset, and runs exactly to the block's end.
    let scan = 100;
    while (scan < 150 && finder.find(scan) === 0) scan++;
    assert.ok(scan < 150, 'the copied block was found');
    assert.equal(finder.pos, 30_000 + (scan - 100));
    assert.equal(finder.find(scan), 500 - (scan - 100));
  });

  test('finds nothing in unrelated bytes, or for matches shorter than its 12-byte seed', () => {
    const next = Buffer.concat([random(1000, 4), old.subarray(10_000, 10_011), random(100, 5)]);
    const finder = new HashFinder(old, next);
    for (let scan = 0; scan < next.length; scan++) assert.equal(finder.find(scan), 0, `at ${scan}`);
    assert.equal(finder.pos, 0);
  });

  test('inputs shorter than the seed find nothing', () => {
    assert.equal(new HashFinder(Buffer.alloc(5), old).find(0), 0);
    assert.equal(new HashFinder(old, Buffer.alloc(5)).find(0), 0);
    assert.equal(new HashFinder(Buffer.alloc(0), Buffer.alloc(0)).find(0), 0);
  });
});
