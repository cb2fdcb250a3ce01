import type { ByteReader } from './byte-reader.js';
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
  PREDICT_ARM64,
  PREDICT_END,
  PREDICT_X86,
  unzigzag,
} from './format.js';
import { MAX_PREDICT_RUNS, OldToNew, RunCollector } from './rel32.js';

/** The number of varint fields of each instruction kind. */
const FIELDS: Readonly<Record<number, number>> = {
  [OP_COPY]: 2,
  [OP_ADD]: 2,
  [OP_INSERT]: 1,
  [OP_FILTER]: 5,
  [OP_PREDICT]: 1,
  [OP_PAGES]: 3,
  [OP_DIGESTS]: 3,
};

/** The most varint fields an instruction has (FILTER). */
const MAX_FIELDS = 5;

/**
 * How many varint fields instruction `kind` has, given the `read` first ones of `fields` (an arm64 PREDICT has its
 * old origin).
 */
function fieldCount(kind: number, fields: readonly number[], read: number): number {
  const count = FIELDS[kind];
  if (count === undefined) throw invalidPatch(`unknown instruction ${kind}`);
  return kind === OP_PREDICT && read > 0 && fields[0] === PREDICT_ARM64 ? 2 : count;
}

/**
 * The applier's look-ahead over the ops stream (a second reader of it, from its start): before a predicted
 * section runs, it reads that section's instructions and maps its ADDs and COPYs outside filtered regions as the
 * creator did (format.ts, PREDICT). It follows the applier's position rules; values are checked only when the
 * instructions run, since a wrong one here can only make a wrong prediction (and the result's hash then fails).
 * Memory: the section's mapping, at most MAX_PREDICT_RUNS runs.
 */
export class PredictLookahead {
  private old = 0;
  private out = 0;
  /** Output bytes left in the filtered region the instructions are in (0: none). */
  private filtered = 0;
  /**
   * The fields of the instruction being read, the first `read` of them. One array, written in place: emptying and
   * refilling an array reallocates its storage, 140 MB of garbage over turbo's million instructions.
   */
  private readonly fields: number[] = new Array<number>(MAX_FIELDS).fill(0);
  private read = 0;

  constructor(private readonly ops: ByteReader) {}

  /**
   * Reads one instruction; returns its PREDICT mode, or -1 for any other kind. Feeds ADDs and COPYs to `runs`.
   * Synchronous (a number, no promise) while the reader has the bytes buffered, as it nearly always has: a
   * section can have a million instructions.
   */
  private step(runs: RunCollector | undefined): number | Promise<number> {
    const { ops, fields } = this;
    this.read = 0;
    const kind = ops.byteSync();
    if (kind < 0) return ops.byte().then((k) => this.finishStep(k, runs));
    while (this.read < fieldCount(kind, fields, this.read)) {
      const v = ops.varintSync();
      if (v < 0) return this.finishStep(kind, runs);
      fields[this.read++] = v;
    }
    return this.apply(kind, fields, runs);
  }

  /** step's slow path: reads the rest of the instruction's fields, awaiting the reader. */
  private async finishStep(kind: number, runs: RunCollector | undefined): Promise<number> {
    const { fields } = this;
    while (this.read < fieldCount(kind, fields, this.read)) fields[this.read++] = await this.ops.varint();
    return this.apply(kind, fields, runs);
  }

  /** Follows one instruction's effect on the positions. */
  private apply(kind: number, fields: readonly number[], runs: RunCollector | undefined): number {
    if (kind === OP_COPY || kind === OP_ADD) {
      const start = this.old + unzigzag(fields[0]!);
      const length = fields[1]!;
      if (this.filtered === 0) runs?.push(start, this.out, length);
      else this.filtered = Math.max(0, this.filtered - length);
      this.old = start + length;
      this.out += length;
    } else if (kind === OP_INSERT) {
      if (this.filtered > 0) this.filtered = Math.max(0, this.filtered - fields[0]!);
      this.out += fields[0]!;
    } else if (kind === OP_FILTER) {
      this.filtered = fields[2]!;
      this.old += unzigzag(fields[3]!);
    } else if (kind === OP_DIGESTS) {
      this.out += fields[2]! * (PAGE_HASHES[fields[0]!]?.size ?? 0);
    } else if (kind !== OP_PAGES) return fields[0]!; // PREDICT: its mode
    return -1;
  }

  /** The mapping of the next predicted section (the applier has just read its PREDICT 1). */
  async nextSection(): Promise<OldToNew> {
    for (;;) {
      let mode = this.step(undefined);
      if (typeof mode !== 'number') mode = await mode;
      if (mode === PREDICT_X86 || mode === PREDICT_ARM64) break;
    }
    const runs = new RunCollector();
    for (;;) {
      let mode = this.step(runs);
      if (typeof mode !== 'number') mode = await mode;
      if (mode === PREDICT_END) break;
      if (mode >= 0) throw invalidPatch('a predicted section is malformed');
      if (runs.count > MAX_PREDICT_RUNS) throw invalidPatch('a predicted section maps too many runs');
    }
    return OldToNew.build(runs.triples());
  }
}
