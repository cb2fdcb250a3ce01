/**
 * x86 branch and address prediction (format.ts, PREDICT): inside a changed executable, a call, jump or
 * RIP-relative address holds the distance to its target, and when code moves those distances change wherever
 * the code and its target moved by different amounts. bsdiff stores each such change as diff bytes. Here the
 * target is instead mapped through the patch's own alignment (where each old byte went in the new file), and
 * the diff is taken against the distance that mapping predicts: zero when the target moved with its alignment.
 * Measured on the corpus's x86-64 pairs (esbuild, libvips, lightningcss, oxlint): the diff bytes compress 16–35 %
 * smaller (docs/patch-formats.md). No disassembler: a field is recognised by its opcode bytes in both versions
 * and by its target lying in aligned old code, by the same rule on both sides, so a wrong guess costs bytes, never
 * correctness.
 */

import { dataView } from './data-view.js';
import { peMachine } from './pe-header.js';

/**
 * ADDs are predicted in chunks of this many bytes from the ADD's start (the applier's piece size): a field
 * across a chunk boundary is left alone, so neither side carries scan state from one chunk to the next.
 */
export const PREDICT_CHUNK = 1 << 18;

/**
 * Runs shorter than this are not mapped: turbo's 36 MB executable has 430,000 runs, 74,000 of 64 bytes or more,
 * and the patches of the corpus are within 1 % either way (16: libvips 0.9 % smaller, oxlint 0.5 % larger).
 */
export const MIN_PREDICT_RUN = 64;

/** Bytes of the old file per entry of OldToNew's page index, at least. */
const INDEX_PAGE = 1 << 12;

/** Most runs a predicted section may map (the applier holds them, 24 bytes each: 24 MiB at most). */
export const MAX_PREDICT_RUNS = 1 << 20;

/**
 * Collects a section's ADD and COPY intervals as runs: an interval that continues the previous one in both files
 * extends it; runs of MIN_PREDICT_RUN bytes or more are kept. The runs are the same however the intervals were
 * cut (the creator counts them from its matches, the applier from the instructions), so both sides map the same
 * runs and agree on MAX_PREDICT_RUNS.
 */
export class RunCollector {
  private data = new Float64Array(3 * 1024);
  /** Runs kept so far (not counting the open one). */
  count = 0;
  private oldStart = 0;
  private newStart = 0;
  private length = 0;

  push(oldStart: number, newStart: number, length: number): void {
    if (length <= 0) return;
    if (
      this.length > 0 &&
      this.oldStart + this.length === oldStart &&
      this.newStart + this.length === newStart
    ) {
      this.length += length;
      return;
    }
    this.close();
    this.oldStart = oldStart;
    this.newStart = newStart;
    this.length = length;
  }

  /** Keeps the open run if it is long enough. */
  private close(): void {
    if (this.length < MIN_PREDICT_RUN) return;
    if (3 * this.count + 3 > this.data.length) {
      const grown = new Float64Array(2 * this.data.length);
      grown.set(this.data);
      this.data = grown;
    }
    const at = 3 * this.count++;
    this.data[at] = this.oldStart;
    this.data[at + 1] = this.newStart;
    this.data[at + 2] = this.length;
    this.length = 0;
  }

  /** The kept runs as (oldStart, newStart, length) triples; call once, after the last push. */
  triples(): Float64Array {
    this.close();
    return this.data.subarray(0, 3 * this.count);
  }
}

/**
 * Where each old byte went in the new file: the ADD and COPY instructions of a predicted section as intervals
 * (old start, new start, length), reduced to disjoint old ranges. Where intervals overlap (old code used twice)
 * the one earliest in the new file wins, a rule that does not depend on how the creator cut its matches into
 * instructions: splitting or merging same-offset intervals changes no answer.
 */
export class OldToNew {
  /** Index of the first segment ending after each page of the old file (from `firstPage`), and one more. */
  private readonly pageFirst: Uint32Array;
  private readonly firstPage: number;
  private readonly pageSize: number;

  private constructor(
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    private readonly shifts: Float64Array,
  ) {
    // A page index narrows each lookup to the segments of one page: a binary search over all of them was most of
    // the x86 scan's time (libvips: about 1 million fields looked up in 100,000 segments). Pages are 4 KiB, or
    // larger where the segments are few and far apart, so the index stays within a few entries per segment.
    const count = starts.length;
    const first = count > 0 ? starts[0]! : 0;
    const span = count > 0 ? ends[count - 1]! - first : 0;
    let pageSize = INDEX_PAGE;
    while (span / pageSize > Math.max(1024, 2 * count)) pageSize *= 2;
    this.pageSize = pageSize;
    this.firstPage = Math.floor(first / pageSize);
    const pages = count > 0 ? Math.ceil(ends[count - 1]! / pageSize) - this.firstPage : 0;
    this.pageFirst = new Uint32Array(pages + 1);
    let segment = 0;
    for (let page = 0; page <= pages; page++) {
      const pageStart = (this.firstPage + page) * pageSize;
      while (segment < count && ends[segment]! <= pageStart) segment++;
      this.pageFirst[page] = segment;
    }
  }

  /** `triples` holds (oldStart, newStart, length) for each interval, in any order. */
  static build(triples: ArrayLike<number>): OldToNew {
    const count = Math.floor(triples.length / 3);
    const oldStart = (i: number) => triples[3 * i]!;
    const newStart = (i: number) => triples[3 * i + 1]!;
    const oldEnd = (i: number) => triples[3 * i]! + triples[3 * i + 2]!;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => oldStart(a) - oldStart(b) || newStart(a) - newStart(b));
    // Sweep the old file: at each boundary the active interval earliest in the new file owns what follows. Each
    // interval adds at most two boundaries, so 2 × count + 1 segments at most.
    const heap = new IndexHeap(count, (a, b) => newStart(a) - newStart(b) || a - b);
    const starts = new Float64Array(2 * count + 1);
    const ends = new Float64Array(2 * count + 1);
    const shifts = new Float64Array(2 * count + 1);
    let segments = 0;
    const emit = (from: number, to: number, owner: number) => {
      if (to <= from) return;
      const shift = newStart(owner) - oldStart(owner);
      const last = segments - 1;
      if (last >= 0 && ends[last] === from && shifts[last] === shift) ends[last] = to;
      else {
        starts[segments] = from;
        ends[segments] = to;
        shifts[segments++] = shift;
      }
    };
    let next = 0;
    let pos = count > 0 ? oldStart(order[0]!) : 0;
    while (next < count || heap.size > 0) {
      while (heap.size > 0 && oldEnd(heap.peek()) <= pos) heap.pop();
      if (heap.size === 0) {
        if (next >= count) break;
        pos = Math.max(pos, oldStart(order[next]!));
      }
      while (next < count && oldStart(order[next]!) <= pos) {
        const i = order[next++]!;
        if (oldEnd(i) > pos) heap.push(i);
      }
      if (heap.size === 0) continue;
      // The owner keeps the range until it ends or a new interval starts (which may be earlier in the new file).
      const owner = heap.peek();
      const until = Math.min(oldEnd(owner), next < count ? oldStart(order[next]!) : Number.POSITIVE_INFINITY);
      emit(pos, until, owner);
      pos = until;
    }
    return new OldToNew(starts.slice(0, segments), ends.slice(0, segments), shifts.slice(0, segments));
  }

  /** Where old offset `x` went in the new file, or undefined when no interval covers it. */
  map(x: number): number | undefined {
    const page = Math.floor(x / this.pageSize) - this.firstPage;
    if (!(page >= 0 && page < this.pageFirst.length - 1)) return undefined;
    // The segments that may hold x: from the first ending after its page's start to the first ending after the
    // next page's start (inclusive: that one may begin inside this page).
    let lo = this.pageFirst[page]!;
    let hi = Math.min(this.pageFirst[page + 1]!, this.starts.length - 1);
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (x < this.starts[mid]!) hi = mid - 1;
      else if (x >= this.ends[mid]!) lo = mid + 1;
      else return x + this.shifts[mid]!;
    }
    return undefined;
  }
}

/** A binary heap of interval indexes, in a typed array (no object per entry). */
class IndexHeap {
  private readonly items: Uint32Array;
  size = 0;

  constructor(
    capacity: number,
    private readonly less: (a: number, b: number) => number,
  ) {
    this.items = new Uint32Array(Math.max(1, capacity));
  }

  /** The least item; only when size > 0. */
  peek(): number {
    return this.items[0]!;
  }

  push(item: number): void {
    const items = this.items;
    let i = this.size++;
    items[i] = item;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(items[i]!, items[parent]!) >= 0) break;
      const swap = items[i]!;
      items[i] = items[parent]!;
      items[parent] = swap;
      i = parent;
    }
  }

  pop(): void {
    const items = this.items;
    items[0] = items[--this.size]!;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(items[l]!, items[m]!) < 0) m = l;
      if (r < this.size && this.less(items[r]!, items[m]!) < 0) m = r;
      if (m === i) break;
      const swap = items[i]!;
      items[i] = items[m]!;
      items[m] = swap;
      i = m;
    }
  }
}

/**
 * The instructions whose last 4 bytes are a rel32 or RIP-relative disp32, by their first two bytes (first × 256 +
 * second): the instruction's length, 0 for none. `call`/`jmp rel32` (E8/E9): 5; `jcc rel32` (0F 80–8F): 6;
 * `lea`/`mov` under REX.W (48/4C 8D/8B): 7, when the ModRM byte after them is RIP-relative (mod 00, r/m 101, see
 * RIP_RELATIVE). Only bytes before the field are looked at. One lookup tells most bytes apart.
 */
const FIELD_LENGTH = new Uint8Array(1 << 16);
for (let second = 0; second < 256; second++) {
  FIELD_LENGTH[0xe800 | second] = 5;
  FIELD_LENGTH[0xe900 | second] = 5;
}
for (let second = 0x80; second <= 0x8f; second++) FIELD_LENGTH[0x0f00 | second] = 6;
for (const pair of [0x488d, 0x488b, 0x4c8d, 0x4c8b]) FIELD_LENGTH[pair] = 7;

/** True for a ModRM byte with mod 00 and r/m 101: a RIP-relative disp32 follows. */
function ripRelative(modrm: number): boolean {
  return (modrm & 0xc7) === 0x05;
}

/**
 * Visits the predicted fields of one chunk: new bytes `neu[0, n)` at new offset `newBase`, made from old bytes
 * `old[0, n)` at old offset `oldBase`. A field is an instruction of FIELD_LENGTH's kinds, with the same first
 * byte in the old chunk, lying wholly in the chunk, whose old target maps through `map`; `visit(at, predicted)`
 * gets the field's chunk offset and the value the mapping predicts (to be taken mod 2^32). `neu` must hold the
 * final new bytes at least up to each visited field, as it does on both sides: the creator has them all, and the
 * applier fixes each field before the scan goes past it.
 */
export function forEachPredictedField(
  neu: Uint8Array,
  old: Uint8Array,
  n: number,
  newBase: number,
  oldBase: number,
  map: OldToNew,
  visit: (at: number, predicted: number) => void,
): void {
  const lengths = FIELD_LENGTH;
  for (let i = 0, end = n - 5; i <= end; i++) {
    const length = lengths[(neu[i]! << 8) | neu[i + 1]!]!;
    if (length === 0 || (length === 7 && !ripRelative(neu[i + 2]!))) continue;
    if (i + length > n || old[i] !== neu[i]) continue;
    const at = i + length - 4;
    const oldRel = old[at]! | (old[at + 1]! << 8) | (old[at + 2]! << 16) | (old[at + 3]! << 24);
    const target = map.map(oldBase + i + length + oldRel);
    if (target === undefined) continue;
    visit(at, target - (newBase + i + length));
    i += length - 1;
  }
}

/**
 * True for an x86 or x86-64 executable or library by its header: ELF (e_machine 3 or 62), PE (machine 0x14c or
 * 0x8664) or Mach-O (CPU type 7 or 0x01000007). Prediction is for their code; other files keep plain diffs.
 */
export function isX86Executable(bytes: Uint8Array): boolean {
  if (bytes.length < 64) return false;
  const view = dataView(bytes);
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const machine = view.getUint16(18, bytes[5] === 1);
    return machine === 3 || machine === 62;
  }
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) {
    const machine = peMachine(bytes);
    return machine === 0x14c || machine === 0x8664;
  }
  const magic = view.getUint32(0, true);
  if (magic === 0xfeedfacf || magic === 0xfeedface) {
    const cpu = view.getUint32(4, true);
    return cpu === 7 || cpu === 0x01000007;
  }
  return false;
}
