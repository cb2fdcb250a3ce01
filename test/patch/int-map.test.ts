import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IntMap } from '../../src/patch/notsotuf/int-map.js';

type Op = { kind: 'set' | 'delete' | 'get'; key: number; value: number };

/** Keys from a small set (so sets, deletes and gets meet), some of them past 2^32. */
const ops = (keys: number[]) =>
  fc.array(
    fc.record({
      kind: fc.constantFrom<Op['kind']>('set', 'set', 'delete', 'get'),
      key: fc.constantFrom(...keys),
      value: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    }),
    { maxLength: 400 },
  );

describe('IntMap (block cache maps)', () => {
  test('answers as a Map does through any sequence of sets, deletes and gets, up to its capacity', () => {
    const small = [0, 1, 2, 3, 17, 64, 65, 1023, 4096, 2 ** 28 - 1];
    const keys = [...small, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 5, 2 ** 52];
    fc.assert(
      fc.property(ops(keys), (sequence) => {
        const map = new IntMap(keys.length);
        const model = new Map<number, number>();
        for (const { kind, key, value } of sequence) {
          if (kind === 'set') {
            map.set(key, value);
            model.set(key, value);
          } else if (kind === 'delete') assert.equal(map.delete(key), model.delete(key));
          assert.equal(map.get(key), model.get(key) ?? -1);
          assert.equal(map.size, model.size);
        }
        for (const key of keys) assert.equal(map.get(key), model.get(key) ?? -1);
      }),
    );
  });

  test('a full table of colliding runs: deletes in the middle of a probe run keep every other key findable', () => {
    // 1,024 entries in 2,048 slots, churned: each round deletes every third key and sets new ones.
    const map = new IntMap(1024);
    const model = new Map<number, number>();
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (const key of [...model.keys()]) {
        if (key % 3 === round % 3) {
          assert.equal(map.delete(key), true);
          model.delete(key);
        }
      }
      while (model.size < 1024) {
        map.set(next, next * 7);
        model.set(next, next * 7);
        next++;
      }
      for (const [key, value] of model) assert.equal(map.get(key), value);
      assert.equal(map.get(next + 1), -1);
    }
    assert.equal(map.size, 1024);
  });

  test('refuses an entry past its capacity', () => {
    const map = new IntMap(2);
    map.set(1, 1);
    map.set(2, 2);
    map.set(2, 3); // an update is not a new entry
    assert.throws(() => map.set(3, 3), RangeError);
  });
});
