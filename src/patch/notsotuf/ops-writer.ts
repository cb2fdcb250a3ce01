import { internalError } from '../../core/foreign-error.js';
import type { DeltaFilter } from './delta-filter.js';
import {
  OP_ADD,
  OP_COPY,
  OP_DIGESTS,
  OP_FILTER,
  OP_INSERT,
  OP_PAGES,
  OP_PREDICT,
  PAGE_HASHES,
  PREDICT_ARM64,
  PREDICT_END,
  pushVarint,
  zigzag,
} from './format.js';
import { type PredictMode, predictModeFields, type SectionPredictor, sectionPredictor } from './predictor.js';
import { type OldToNew, PREDICT_CHUNK } from './rel32.js';

/** Equal bytes in a row from which an ADD is split and the run becomes a COPY: fewer diff bytes to store and add. */
// Measured on esbuild 0.23.0 → 0.23.1 (diff+ops, bzip2): 64 → 233 KB, 512 → 215 KB, 4096 → 213 KB, never → 213 KB.
const ZERO_RUN_FOR_COPY = 4096;

/** Largest diff also kept in plain form: bzip2 on it is cheap up to here, and only small diffs gain from it. */
const PLAIN_DIFF_LIMIT = 16 << 20;

/** Bytes a stream gathers before they go to its sink (compressing while the plan goes on). */
const SINK_CHUNK = 1 << 16;

/** Takes a finished chunk of a stream; the chunk is not touched again by its producer. */
export type ChunkSink = (chunk: Uint8Array) => void;

/** A growable byte buffer; with a sink, it hands over each 64 KiB it gathers and keeps only the rest. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  constructor(private readonly sink?: ChunkSink) {}

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private spill(): void {
    if (!this.sink || this.length < SINK_CHUNK) return;
    this.sink(this.buf.subarray(0, this.length));
    this.buf = new Uint8Array(SINK_CHUNK + (1 << 16));
    this.length = 0;
  }

  push(bytes: ArrayLike<number>): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    this.spill();
  }

  /** Appends an unsigned LEB128 varint (as format.ts's pushVarint, without an intermediate array). */
  pushVarint(value: number): void {
    this.ensure(8);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
    this.spill();
  }

  /** Hands what is left to the sink. */
  drain(): void {
    if (this.sink && this.length > 0) this.sink(this.buf.subarray(0, this.length));
    this.buf = new Uint8Array(0);
    this.length = 0;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Builds the three streams of a notsotuf patch from matches: old ranges copied exactly, old ranges plus small
 * byte differences (bsdiff's "diff" bytes), and new bytes. Adjacent copies are merged and long runs of equal
 * bytes inside an ADD become copies, so the diff stream holds only real differences.
 */
export interface PatchSinks {
  readonly ops: ChunkSink;
  /** The diff bytes run-length coded (see format.ts): varint pairs (zeros, others)… */
  readonly diffRuns: ChunkSink;
  /** …and the other bytes. */
  readonly diffBytes: ChunkSink;
  readonly extra: ChunkSink;
}

export class OpsWriter {
  private readonly ops: Bytes;
  private readonly diffRuns: Bytes;
  private readonly diffBytes: Bytes;
  private readonly extra: Bytes;
  /** Every diff byte as is, kept while there are at most PLAIN_DIFF_LIMIT of them (see format.ts: plain form). */
  diffPlain: Bytes | undefined = new Bytes();
  private zeros = 0;
  private others = 0;
  private oldPos = 0;
  private pendingCopy: { start: number; length: number } | undefined;
  /** Bytes inserted since the last instruction (already in the extra stream; the INSERT op is pending). */
  private pendingInsertLength = 0;
  /** Extra-stream bytes put there by preInsert that no insert() has output yet. */
  private preinserted = 0;
  private scratch = new Uint8Array(1 << 16);
  private nonzero = new Uint8Array(1 << 16);
  /** The predicted section's rule, while in one (beginPredict). */
  private predict: SectionPredictor | undefined;
  private inFilter = false;
  /**
   * The kinds of predicted sections written, and whether page digests were, for the patch's format version
   * (format.ts, formatVersion).
   */
  readonly predicted = { x86: false, arm64: false, pages: false };
  written = 0;

  /**
   * @param sinks where each stream's bytes go, in chunks, as they are made
   * @param zeroRunForCopy equal bytes in a row that turn part of an ADD into a COPY
   */
  constructor(
    sinks: PatchSinks,
    private readonly zeroRunForCopy = ZERO_RUN_FOR_COPY,
  ) {
    this.ops = new Bytes(sinks.ops);
    this.diffRuns = new Bytes(sinks.diffRuns);
    this.diffBytes = new Bytes(sinks.diffBytes);
    this.extra = new Bytes(sinks.extra);
  }

  private flushCopy(): void {
    if (!this.pendingCopy) return;
    const { start, length } = this.pendingCopy;
    const op: number[] = [OP_COPY];
    pushVarint(op, zigzag(start - this.oldPos));
    pushVarint(op, length);
    this.ops.push(op);
    this.oldPos = start + length;
    this.pendingCopy = undefined;
  }

  private flushInsert(): void {
    if (this.pendingInsertLength === 0) return;
    const op: number[] = [OP_INSERT];
    pushVarint(op, this.pendingInsertLength);
    this.ops.push(op);
    this.pendingInsertLength = 0;
  }

  /** Output `length` bytes equal to old[start…]. */
  copy(start: number, length: number): void {
    if (length <= 0) return;
    this.flushInsert();
    const p = this.pendingCopy;
    if (p && p.start + p.length === start) p.length += length;
    else {
      this.flushCopy();
      this.pendingCopy = { start, length };
    }
    this.written += length;
  }

  /** Output `bytes` literally (copied now: the caller may reuse them). */
  insert(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.flushCopy();
    // Bytes preInsert put in the extra stream already: only their INSERT is still to come.
    const ahead = Math.min(this.preinserted, bytes.length);
    this.preinserted -= ahead;
    if (ahead < bytes.length) this.extra.push(bytes.subarray(ahead));
    this.pendingInsertLength += bytes.length;
    this.written += bytes.length;
  }

  /**
   * Puts `bytes` in the extra stream ahead of the insert() calls that output them, which must then come with
   * the same bytes in the same order before any other insert: a predicted file's literals start compressing
   * while the rest of its matches are still being found (its ADDs wait for all of them).
   */
  preInsert(bytes: Uint8Array): void {
    this.extra.push(bytes);
    this.preinserted += bytes.length;
  }

  /**
   * Starts a filtered region (format.ts, FILTER): the next `length` bytes output are in filtered form, read
   * from the filtered form of old[oldStart, oldStart + oldLength). Call `endFilter` after them.
   */
  beginFilter(filter: DeltaFilter, length: number, oldStart: number, oldLength: number): void {
    this.flushCopy();
    this.flushInsert();
    const op: number[] = [OP_FILTER];
    pushVarint(op, filter.word);
    pushVarint(op, filter.stride);
    pushVarint(op, length);
    pushVarint(op, zigzag(oldStart - this.oldPos));
    pushVarint(op, oldLength);
    this.ops.push(op);
    this.oldPos = oldStart;
    this.inFilter = true;
  }

  /** Ends a filtered region: nothing inside it merges with what follows. */
  endFilter(): void {
    this.flushCopy();
    this.flushInsert();
    this.inFilter = false;
  }

  /**
   * Output `neu`, expressed against old[start…] of the same length: copies where equal, diff bytes elsewhere.
   * `old` holds the old file from offset `origin` (a filtered region's bytes start at the region).
   */
  approximate(old: Uint8Array, start: number, neu: Uint8Array, origin = 0): void {
    const n = neu.length;
    start -= origin;
    let i = 0;
    while (i < n) {
      // Find the next run of equal bytes long enough to be a copy.
      let runStart = i;
      let runLength = 0;
      let j = i;
      while (j < n) {
        if (old[start + j] === neu[j]) {
          if (runLength === 0) runStart = j;
          runLength++;
          if (runLength >= this.zeroRunForCopy) break;
        } else runLength = 0;
        j++;
      }
      const addEnd = runLength >= this.zeroRunForCopy ? runStart : n;
      if (addEnd > i) this.add(old, start + i, neu.subarray(i, addEnd), origin);
      if (addEnd === n) break;
      let k = runStart;
      while (k < n && old[start + k] === neu[k]) k++;
      this.copy(origin + start + runStart, k - runStart);
      i = k;
    }
  }

  /** An ADD of `neu` against old[start…] (`start` indexes `old`, which begins at file offset `origin`). */
  private add(old: Uint8Array, start: number, neu: Uint8Array, origin: number): void {
    this.flushInsert();
    this.flushCopy();
    const op: number[] = [OP_ADD];
    pushVarint(op, zigzag(origin + start - this.oldPos));
    pushVarint(op, neu.length);
    this.ops.push(op);
    const n = neu.length;
    const d = this.scratchFor(n);
    for (let k = 0; k < n; k++) d[k] = (neu[k]! - old[start + k]!) & 0xff;
    if (this.predict && !this.inFilter) this.predictFields(d, old, start, neu, origin);
    let nonzero = 0;
    const bytes = this.nonzeroFor(n);
    for (let k = 0; k < n; k++) {
      const b = d[k]!;
      if (b === 0) {
        if (this.others > 0) this.flushRun();
        this.zeros++;
      } else {
        this.others++;
        bytes[nonzero++] = b;
      }
    }
    this.diffBytes.push(bytes.subarray(0, nonzero));
    if (this.diffPlain) {
      this.diffPlain.push(d.subarray(0, n));
      if (this.diffPlain.length > PLAIN_DIFF_LIMIT) this.diffPlain = undefined;
    }
    this.oldPos = origin + start + n;
    this.written += n;
  }

  /** Takes the diff of each predicted instruction against its prediction, chunk by chunk as apply does. */
  private predictFields(
    d: Uint8Array,
    old: Uint8Array,
    start: number,
    neu: Uint8Array,
    origin: number,
  ): void {
    for (let c = 0; c < neu.length; c += PREDICT_CHUNK) {
      this.predict!.diff(
        d.subarray(c),
        neu.subarray(c),
        old.subarray(start + c),
        Math.min(PREDICT_CHUNK, neu.length - c),
        this.written + c,
        origin + start + c,
      );
    }
  }

  /**
   * Starts a predicted section (format.ts, PREDICT) here, in `mode`: the ADDs that follow, outside filtered
   * regions, take the diff of x86 fields or arm64 instructions against `map`'s prediction (rel32.ts, arm64.ts).
   * `map` must be made from exactly the ADD and COPY instructions of the section outside filtered regions (any cut
   * of them into instructions).
   */
  beginPredict(map: OldToNew, mode: PredictMode): void {
    this.flushCopy();
    this.flushInsert();
    const op = [OP_PREDICT];
    for (const field of predictModeFields(mode)) pushVarint(op, field);
    this.ops.push(op);
    this.predict = sectionPredictor(mode, map, this.written);
    if (mode.kind === PREDICT_ARM64) this.predicted.arm64 = true;
    else this.predicted.x86 = true;
  }

  /**
   * Starts hashing the next `limit` bytes of output in pages of 2^pageShift bytes with the hash types in `types`
   * (format.ts, PAGES); `digests` then outputs digests of those pages.
   */
  pages(pageShift: number, limit: number, types: number): void {
    this.flushCopy();
    this.flushInsert();
    const op = [OP_PAGES];
    for (const field of [pageShift, limit, types]) pushVarint(op, field);
    this.ops.push(op);
    this.predicted.pages = true;
  }

  /** Outputs the type-`type` digests of pages first … first + count − 1 (format.ts, DIGESTS). */
  digests(type: number, first: number, count: number): void {
    this.flushCopy();
    this.flushInsert();
    const op = [OP_DIGESTS];
    for (const field of [type, first, count]) pushVarint(op, field);
    this.ops.push(op);
    this.written += count * PAGE_HASHES[type]!.size;
  }

  /** Ends the predicted section. */
  endPredict(): void {
    this.flushCopy();
    this.flushInsert();
    this.ops.push([OP_PREDICT, PREDICT_END]);
    this.predict = undefined;
  }

  /** A second scratch buffer, for the non-zero diff bytes of an ADD. */
  private nonzeroFor(length: number): Uint8Array {
    if (this.nonzero.length < length)
      this.nonzero = new Uint8Array(Math.max(length, 2 * this.nonzero.length));
    return this.nonzero;
  }

  /** A buffer for `length` diff bytes, reused across ADDs (the streams copy what they take). */
  private scratchFor(length: number): Uint8Array {
    if (this.scratch.length < length)
      this.scratch = new Uint8Array(Math.max(length, 2 * this.scratch.length));
    return this.scratch;
  }

  private flushRun(): void {
    this.diffRuns.pushVarint(this.zeros);
    this.diffRuns.pushVarint(this.others);
    this.zeros = 0;
    this.others = 0;
  }

  /** Flushes pending instructions; call once at the end. */
  finish(): void {
    if (this.preinserted !== 0)
      throw internalError(`${this.preinserted} pre-inserted bytes were never output.`);
    this.flushCopy();
    this.flushInsert();
    if (this.zeros > 0 || this.others > 0) this.flushRun();
    for (const stream of [this.ops, this.diffRuns, this.diffBytes, this.extra]) stream.drain();
  }
}
