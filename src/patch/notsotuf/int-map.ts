/**
 * A map from non-negative integers (below 2^53) to int32 values, of a capacity fixed at construction, held in
 * typed arrays: nothing is allocated after construction. The block cache updates its maps on every miss (turbo's
 * apply: 180,000 times); a Map rehashed its table as entries came and went, 8–18 MB of garbage that piled up in
 * the old generation until a full collection.
 *
 * Open addressing with linear probing at a load of at most one half; a delete shifts the entries after it back,
 * so there are no tombstones and lookups stay short however many entries came and went.
 */
export class IntMap {
  private readonly keys: Float64Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  /** Entries held. */
  size = 0;

  /** @param maxEntries the most entries it will hold (set throws past it) */
  constructor(private readonly maxEntries: number) {
    let bits = 1;
    while (1 << bits < 2 * maxEntries) bits++;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.values = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  /** Where `key` starts probing: a multiplicative hash of its low and high 32 bits. */
  private home(key: number): number {
    const high = (key / 0x1_0000_0000) >>> 0;
    return Math.imul((key >>> 0) ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding `key`, or -1. */
  private find(key: number): number {
    const { keys, mask } = this;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k === -1) return -1;
    }
  }

  /** The value of `key`, or -1 when it has none. */
  get(key: number): number {
    const i = this.find(key);
    return i < 0 ? -1 : this.values[i]!;
  }

  set(key: number, value: number): void {
    const { keys, mask } = this;
    let i = this.home(key);
    while (keys[i] !== -1 && keys[i] !== key) i = (i + 1) & mask;
    if (keys[i] === -1) {
      if (this.size === this.maxEntries) throw new RangeError(`the map is full (${this.maxEntries})`);
      this.size++;
      keys[i] = key;
    }
    this.values[i] = value;
  }

  /** Removes `key`; true when it was there. */
  delete(key: number): boolean {
    let hole = this.find(key);
    if (hole < 0) return false;
    const { keys, values, mask } = this;
    // Move back each following entry of the run that the hole now cuts off from its home slot.
    for (let j = (hole + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const fromHome = (j - this.home(keys[j]!)) & mask;
      if (((j - hole) & mask) <= fromHome) {
        keys[hole] = keys[j]!;
        values[hole] = values[j]!;
        hole = j;
      }
    }
    keys[hole] = -1;
    this.size--;
    return true;
  }
}
