import { checkAborted } from '../../core/aborted.js';
import type { ApplyPatchOptions } from '../codec.js';
import type { BlockCache } from './block-cache.js';
import type { ByteReader } from './byte-reader.js';
import { copyBytes } from './copy-bytes.js';
import { isValidFilter } from './delta-filter.js';
import type { DiffReader } from './diff-reader.js';
import { APPLY_PIECE, FilteredRegion, regionScratch } from './filtered-old.js';
import {
  invalidPatch,
  OP_ADD,
  OP_COPY,
  OP_DIGESTS,
  OP_FILTER,
  OP_INSERT,
  OP_PAGES,
  OP_PREDICT,
  PAGE_HASHES,
  type PatchHeader,
  PREDICT_ARM64,
  PREDICT_END,
  PREDICT_X86,
  unzigzag,
} from './format.js';
import { PageHasher } from './page-hashes.js';
import type { PieceWriter } from './piece-writer.js';
import { PredictLookahead } from './predict-section.js';
import { type SectionPredictor, sectionPredictor } from './predictor.js';

/**
 * Size of the pieces old bytes are read and output is written in (256 KiB): memory stays bounded for any file
 * size, and 1 MiB pieces were no faster.
 */
const PIECE = APPLY_PIECE;

/** What the instruction loop reads from and writes to (apply.ts opens them). */
export interface OpsApplierParts {
  header: PatchHeader;
  ops: ByteReader;
  diff: DiffReader;
  extra: ByteReader;
  oldBlocks: BlockCache;
  writer: PieceWriter;
  /** A second reader of the ops stream, from its start, for the lookahead that maps predicted sections. */
  opsReader: () => ByteReader;
}

/**
 * Runs a patch's instructions. The loop is kept small and each instruction kind has its own method: V8 optimizes
 * small functions cheaply, while compiling one big loop with every case inlined cost 5–8 MiB of apply's peak
 * memory. The per-piece work is synchronous and returns a promise only when a stream must be refilled or the
 * writer must flush: no promise per instruction (millions of them grew node's heap).
 *
 * Every instruction is checked against the header's sizes before it runs, so a hostile patch can neither read
 * outside the base file, nor write past the declared size, nor make us allocate by a length it chose.
 */
export class OpsApplier {
  private readonly header: PatchHeader;
  private readonly ops: ByteReader;
  private readonly oldBuf = Buffer.allocUnsafe(PIECE);
  private outPos = 0;
  private oldPos = 0;
  /** The filtered region being output, if any, and the scratch buffer all regions read through. */
  private region: FilteredRegion | undefined;
  private scratch: Buffer | undefined;
  /** The predicted section's rule while in one, and a second reader of the ops stream that finds sections. */
  private predict: SectionPredictor | undefined;
  private lookahead: PredictLookahead | undefined;
  /** The old bytes of an ADD piece in a predicted section, before the diff is added (the rule reads both). */
  private oldCopy: Buffer | undefined;
  /** The page digests of the last PAGES, fed the output from there on. */
  private pages: PageHasher | undefined;

  constructor(private readonly parts: OpsApplierParts) {
    this.header = parts.header;
    this.ops = parts.ops;
  }

  /** Runs every instruction; returns the number of bytes output. */
  async run(options: Pick<ApplyPatchOptions, 'signal' | 'onProgress'>): Promise<number> {
    const { ops, header } = this;
    let lastReport = 0;
    // A predicted section may end after the last byte (its PREDICT 0): the loop reads it.
    while (this.outPos < header.newSize || this.predict) {
      checkAborted(options.signal, 'Applying the patch was aborted.');
      // The sync reads serve almost every instruction from buffers; the awaits are for buffer boundaries.
      let kind = ops.byteSync();
      if (kind < 0) kind = await ops.byte();
      const pending = this.instruction(kind);
      if (pending) await pending;
      if (this.region && this.region.unfilter.remaining === 0) this.region = undefined;
      if (options.onProgress && this.outPos - lastReport >= 4 * PIECE) {
        lastReport = this.outPos;
        options.onProgress({ done: this.outPos, total: header.newSize });
      }
    }
    if (this.predict) throw invalidPatch('data left over after the result was complete');
    return this.outPos;
  }

  /**
   * Runs one instruction. Synchronous (undefined) while its fields and bytes are buffered and the writer has room,
   * which is nearly always; a promise when a stream must be refilled or a piece written.
   */
  private instruction(kind: number): Promise<void> | undefined {
    const { ops, header } = this;
    if (kind === OP_COPY || kind === OP_ADD) {
      const delta = ops.varintSync();
      const length = delta < 0 ? -1 : ops.varintSync();
      if (length < 0) return this.copyFields(kind, delta);
      return this.copy(kind, delta, length);
    }
    if (kind === OP_INSERT) {
      const length = ops.varintSync();
      if (length < 0) return ops.varint().then((n) => this.insert(n));
      return this.insert(length);
    }
    if (kind === OP_FILTER && header.version !== 2) return this.startRegion();
    if (kind === OP_PREDICT && header.version! >= 4) return this.predictMark();
    if ((kind === OP_PAGES || kind === OP_DIGESTS) && header.version! >= 6) return this.pageDigests(kind);
    throw invalidPatch(`unknown instruction ${kind}`);
  }

  /** Reads a COPY's or ADD's fields across a refill of the ops stream (`delta` is -1 when not read yet). */
  private async copyFields(kind: number, delta: number): Promise<void> {
    const d = delta < 0 ? await this.ops.varint() : delta;
    const length = await this.ops.varint();
    await this.copy(kind, d, length);
  }

  /** COPY or ADD `length` bytes from `delta` past the end of the last one, piece by piece. */
  private copy(kind: number, delta: number, length: number): Promise<void> | undefined {
    const start = this.copyStart(delta, length);
    const at = this.outPos;
    this.oldPos = start + length;
    this.outPos += length;
    for (let done = 0; done < length; ) {
      const want = Math.min(PIECE, length - done);
      const pending = this.copyPiece(kind, start + done, at + done, want);
      done += want;
      if (pending) return this.copyRest(kind, start, at, length, done, pending);
    }
    return undefined;
  }

  /** The rest of a COPY or ADD once a piece had to wait. */
  private async copyRest(
    kind: number,
    start: number,
    at: number,
    length: number,
    from: number,
    pending: Promise<void>,
  ): Promise<void> {
    await pending;
    for (let done = from; done < length; ) {
      const want = Math.min(PIECE, length - done);
      const next = this.copyPiece(kind, start + done, at + done, want);
      if (next) await next;
      done += want;
    }
  }

  /** INSERT `length` bytes of the extra stream, through the piece buffer as COPY (unfiltered in place in a region). */
  private insert(length: number): Promise<void> | undefined {
    if (length === 0 || length > this.room()) {
      throw invalidPatch('an insert reaches past the result or its filtered region');
    }
    this.outPos += length;
    for (let done = 0; done < length; ) {
      const n = this.parts.extra.copyIntoSync(this.oldBuf, 0, Math.min(PIECE, length - done));
      if (n === 0) return this.insertRest(length, done, undefined);
      const pending = this.output(n);
      done += n;
      if (pending) return this.insertRest(length, done, pending);
    }
    return undefined;
  }

  /** The rest of an INSERT once the extra stream must be refilled or a piece written. */
  private async insertRest(length: number, from: number, pending: Promise<void> | undefined): Promise<void> {
    await pending;
    for (let done = from; done < length; ) {
      const max = Math.min(PIECE, length - done);
      let n = this.parts.extra.copyIntoSync(this.oldBuf, 0, max);
      if (n === 0) n = await this.takeExtra(max);
      const next = this.output(n);
      if (next) await next;
      done += n;
    }
  }

  /** Output bytes the next instruction may make: up to the end of the result, or of the filtered region. */
  private room(): number {
    return this.region ? this.region.unfilter.remaining : this.header.newSize - this.outPos;
  }

  /** The old offset a COPY or ADD starts at, once its range is checked. */
  private copyStart(delta: number, length: number): number {
    const start = this.oldPos + unzigzag(delta);
    if (
      length === 0 ||
      start < 0 ||
      start + length > this.header.oldSize ||
      length > this.room() ||
      (this.region && !this.region.covers(start, length))
    ) {
      throw invalidPatch('an instruction reaches outside the base, the result or its filtered region');
    }
    return start;
  }

  /**
   * One piece of a COPY or ADD, old[start…] to output[at…]: old bytes, plus the diff for an ADD (and the predicted section's rule), out.
   * Synchronous in the common case: no promise or view object per instruction.
   */
  private copyPiece(kind: number, start: number, at: number, want: number): Promise<void> | undefined {
    const { oldBuf, region } = this;
    if (region) region.readSync(this.parts.oldBlocks, oldBuf, start, want);
    else this.parts.oldBlocks.readSync(oldBuf, start, want);
    if (kind !== OP_ADD) return this.output(want);
    const predicting = this.predict !== undefined && !region;
    if (predicting) copyBytes(oldBuf, 0, this.oldCopy!, 0, want);
    const pending = this.parts.diff.addInto(oldBuf, want);
    if (!predicting) return pending ? pending.then(() => this.output(want)) : this.output(want);
    if (pending) return pending.then(() => this.predictAndOutput(want, at, start));
    return this.predictAndOutput(want, at, start);
  }

  private predictAndOutput(want: number, at: number, start: number): Promise<void> | undefined {
    this.predict!.apply(this.oldBuf, this.oldCopy!, want, at, start);
    return this.output(want);
  }

  /** Refills the extra stream and copies up to `max` of its bytes into the piece; returns how many. */
  private async takeExtra(max: number): Promise<number> {
    const bytes = await this.parts.extra.take(max);
    bytes.copy(this.oldBuf);
    return bytes.length;
  }

  /**
   * Unfilters the first `n` bytes of the piece in a filtered region, hashes them for page digests, and hands them
   * to the writer.
   */
  private output(n: number): Promise<void> | undefined {
    this.region?.unfilter.unfilterInPlace(this.oldBuf, n);
    if (this.pages && !this.pages.done) this.pages.update(this.oldBuf, n);
    if (this.parts.writer.pushSync(this.oldBuf, n)) return undefined;
    return this.parts.writer.push(this.oldBuf.subarray(0, n));
  }

  /** The next `count` varint fields of an instruction that is rare enough to await each one. */
  private async readFields(count: number): Promise<number[]> {
    const fields: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = this.ops.varintSync();
      fields.push(v < 0 ? await this.ops.varint() : v);
    }
    return fields;
  }

  /** PAGES: hash the output from here in pages; DIGESTS: output digests of pages already hashed. */
  private async pageDigests(kind: number): Promise<void> {
    const [a, b, c] = (await this.readFields(3)) as [number, number, number];
    if (this.region) throw invalidPatch('page digests inside a filtered region');
    if (kind === OP_PAGES) {
      if (this.pages && !this.pages.done) throw invalidPatch('page hashing started again before it ended');
      if (b > this.room()) throw invalidPatch('page hashing reaches past the result');
      this.pages = new PageHasher(a, b, c);
      return;
    }
    const size = PAGE_HASHES[a]?.size;
    if (!this.pages || size === undefined || c * size > this.room()) {
      throw invalidPatch('page digests without page hashing, of an unknown type, or past the result');
    }
    const digests = this.pages.digestsOf(a, b, c);
    this.outPos += digests.length;
    for (let done = 0; done < digests.length; ) {
      const n = Math.min(PIECE, digests.length - done);
      digests.copy(this.oldBuf, 0, done, done + n);
      const pending = this.output(n);
      if (pending) await pending;
      done += n;
    }
  }

  /** FILTER: the instructions that follow make a region in filtered form (delta-filter.ts). */
  private async startRegion(): Promise<void> {
    const { header } = this;
    if (this.region) throw invalidPatch('a filtered region inside another');
    const fields = await this.readFields(5);
    const [word, stride, length, delta, oldLength] = fields as [number, number, number, number, number];
    const start = this.oldPos + unzigzag(delta);
    if (
      !isValidFilter({ word, stride }) ||
      length === 0 ||
      this.outPos + length > header.newSize ||
      start < 0 ||
      start + oldLength > header.oldSize
    ) {
      throw invalidPatch('a filtered region is malformed or reaches outside the base or the result');
    }
    this.scratch ??= regionScratch();
    this.region = new FilteredRegion({ word, stride }, length, start, oldLength, this.scratch);
    this.oldPos = start;
  }

  /** PREDICT: a predicted section starts (x86 or arm64 rule) or ends. */
  private async predictMark(): Promise<void> {
    const { ops, header } = this;
    let mode = ops.varintSync();
    if (mode < 0) mode = await ops.varint();
    const starts = mode === PREDICT_X86 || (mode === PREDICT_ARM64 && header.version! >= 5);
    if (starts && !this.predict && !this.region) {
      let oldOrigin = 0;
      if (mode === PREDICT_ARM64) {
        oldOrigin = ops.varintSync();
        if (oldOrigin < 0) oldOrigin = await ops.varint();
        if (oldOrigin > header.oldSize) throw invalidPatch('a predicted section starts outside the base');
      }
      this.lookahead ??= new PredictLookahead(this.parts.opsReader());
      const map = await this.lookahead.nextSection();
      this.predict = sectionPredictor(
        mode === PREDICT_ARM64 ? { kind: PREDICT_ARM64, oldOrigin } : { kind: PREDICT_X86 },
        map,
        this.outPos,
      );
      this.oldCopy ??= Buffer.allocUnsafe(PIECE);
    } else if (mode === PREDICT_END && this.predict && !this.region) this.predict = undefined;
    else throw invalidPatch('a predicted section is malformed');
  }
}
