import type { BlockCache } from './block-cache.js';
import { type DeltaFilter, DeltaUnfilter, filterRange, MAX_STRIDE } from './delta-filter.js';
import { PREDICT_CHUNK } from './rel32.js';

/** Most bytes one read asks for: the applier's piece size, which is also the format's PREDICT chunk. */
export const APPLY_PIECE = PREDICT_CHUNK;

/** The scratch buffer FilteredRegion reads raw old bytes into: a piece plus the stride. */
export function regionScratch(): Buffer {
  return Buffer.allocUnsafe(APPLY_PIECE + MAX_STRIDE + 8);
}

/**
 * The applier's side of a filtered region (format.ts, FILTER): reads of the old region in filtered form, and
 * the unfiltering of the output. Reads through a scratch buffer of regionScratch() that the applier keeps for
 * all its regions (a patch can have thousands): memory stays flat.
 */
export class FilteredRegion {
  readonly unfilter: DeltaUnfilter;

  constructor(
    private readonly filter: DeltaFilter,
    length: number,
    readonly oldStart: number,
    readonly oldLength: number,
    private readonly scratch: Buffer,
  ) {
    this.unfilter = new DeltaUnfilter(filter, length);
  }

  /** True when old[start, start + length) lies in the region. */
  covers(start: number, length: number): boolean {
    return start >= this.oldStart && start + length <= this.oldStart + this.oldLength;
  }

  /** Fills `into[0, length)` with the filtered form of old[position, position + length) (at most APPLY_PIECE). */
  readSync(blocks: BlockCache, into: Uint8Array, position: number, length: number): void {
    const { word, stride } = this.filter;
    const from = position - this.oldStart;
    // The filter reads back to the start of the word, one stride earlier.
    const rawFrom = Math.max(0, from - (from % word) - stride);
    const rawLength = from + length - rawFrom;
    // The scratch buffer itself, not a view of rawLength: no object per read (filterRange reads only that far).
    const raw = this.scratch;
    blocks.readSync(raw, this.oldStart + rawFrom, rawLength);
    filterRange(raw, rawFrom, this.oldLength, this.filter, from, from + length, into);
  }
}
