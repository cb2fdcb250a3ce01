import { filterRegion } from './delta-filter.js';
import { type FilterRegion, findFilterRegions } from './filter-regions.js';
import type { Match, Matcher } from './matcher.js';

/**
 * How a changed file is matched against its old version: the tables to diff in filtered form (filter-regions.ts),
 * the matches over the whole file, and the matches inside each table. Made lazily on the thread that emits the
 * patch, or ahead of time on a worker (match-worker.ts); both give the same matches, so the same patch.
 */
export interface FileMatches {
  readonly regions: readonly FilterRegion[];
  /** Matches over the whole file, in new order; emitting cuts them where a region lies. */
  readonly matches: Iterable<Match>;
  /** Matches of region `index`, whose filtered old and new bytes are `old` and `neu`. */
  regionMatches(index: number, old: Uint8Array, neu: Uint8Array): Iterable<Match>;
}

/** Matches found as they are consumed (the matcher runs between the emitter's steps). */
export function matchLazily(old: Uint8Array, neu: Uint8Array, matcher: Matcher): FileMatches {
  return {
    regions: findFilterRegions(old, neu),
    matches: matcher(old, neu),
    regionMatches: (_index, oldRegion, newRegion) => matcher(oldRegion, newRegion),
  };
}

/** FileMatches as plain data that crosses threads cheaply: matches as (newStart, oldStart, length) triples. */
export interface PackedFileMatches {
  readonly regions: FilterRegion[];
  readonly matches: Float64Array<ArrayBuffer>;
  readonly regionMatches: Float64Array<ArrayBuffer>[];
}

function pack(matches: Iterable<Match>): Float64Array<ArrayBuffer> {
  const flat: number[] = [];
  for (const m of matches) flat.push(m.newStart, m.oldStart, m.length);
  return Float64Array.from(flat);
}

function* unpack(packed: Float64Array<ArrayBuffer>): Generator<Match> {
  for (let i = 0; i + 2 < packed.length; i += 3)
    yield { newStart: packed[i]!, oldStart: packed[i + 1]!, length: packed[i + 2]! };
}

/** Every match of the file and of its regions, found now. */
export function matchPacked(old: Uint8Array, neu: Uint8Array, matcher: Matcher): PackedFileMatches {
  const regions = findFilterRegions(old, neu);
  return {
    regions,
    matches: pack(matcher(old, neu)),
    regionMatches: regions.map((r) =>
      pack(
        matcher(
          filterRegion(old.subarray(r.oldStart, r.oldEnd), r.filter),
          filterRegion(neu.subarray(r.newStart, r.newEnd), r.filter),
        ),
      ),
    ),
  };
}

/** The FileMatches of matches found elsewhere. */
export function unpackFileMatches(packed: PackedFileMatches): FileMatches {
  return {
    regions: packed.regions,
    matches: unpack(packed.matches),
    regionMatches: (index) => {
      const found = packed.regionMatches[index];
      if (!found) throw new RangeError(`no matches for region ${index}`);
      return unpack(found);
    },
  };
}
