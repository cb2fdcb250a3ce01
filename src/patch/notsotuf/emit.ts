import { internalError } from '../../core/foreign-error.js';
import { filterRegion } from './delta-filter.js';
import type { FileMatches } from './file-matches.js';
import type { FilterRegion } from './filter-regions.js';
import { PREDICT_ARM64, PREDICT_X86 } from './format.js';
import type { Match } from './matcher.js';
import type { OpsWriter } from './ops-writer.js';
import type { PredictMode } from './predictor.js';
import { MAX_PREDICT_RUNS, OldToNew, RunCollector } from './rel32.js';

/** The executables whose code is predicted: both versions of a file must be of one kind. */
export type ExecutableKind = 'x86' | 'arm64';

/** How long the matcher may hold the event loop before it lets the compressors' I/O through. */
const YIELD_EVERY_MS = 20;

/** A match, or a filtered region in its place (see withRegions). */
type Piece = Match | { readonly region: FilterRegion; readonly index: number };

/**
 * The matches with the filtered regions put in: a match is cut where a region starts and resumes after its end
 * (a region's bytes are matched in filtered form on their own), and every region comes once, in new order.
 */
function* withRegions(matches: Iterable<Match>, regions: readonly FilterRegion[]): Generator<Piece> {
  let next = 0;
  let floor = 0;
  for (const m of matches) {
    const end = m.newStart + m.length;
    let start = Math.max(m.newStart, floor);
    while (next < regions.length && regions[next]!.newStart < end) {
      const index = next++;
      const region = regions[index]!;
      if (start < region.newStart)
        yield {
          newStart: start,
          oldStart: m.oldStart + (start - m.newStart),
          length: region.newStart - start,
        };
      yield { region, index };
      floor = region.newEnd;
      start = Math.max(start, floor);
    }
    if (start < end)
      yield { newStart: start, oldStart: m.oldStart + (start - m.newStart), length: end - start };
  }
  while (next < regions.length) {
    const index = next++;
    yield { region: regions[index]!, index };
  }
}

/**
 * The pieces emitPieces writes, in order: every region, and every match that is not empty and starts at or after
 * the end of what was written before it (others are skipped). The predicted section's runs come from the same
 * pieces, so they are the ADDs and COPYs the applier sees.
 */
function* emitted(pieces: Iterable<Piece>): Generator<Piece> {
  let pos = 0;
  for (const piece of pieces) {
    if ('region' in piece) {
      pos = piece.region.newEnd;
      yield piece;
    } else if (piece.newStart >= pos && piece.length > 0) {
      pos = piece.newStart + piece.length;
      yield piece;
    }
  }
}

/** Lets the event loop run now and then: the compressors' chunks reach liblzma's thread only through it. */
function yielder(): () => Promise<void> | undefined {
  let turn = Date.now();
  return () => {
    if (Date.now() - turn <= YIELD_EVERY_MS) return undefined;
    turn = Date.now();
    return new Promise((resolve) => setImmediate(resolve));
  };
}

/**
 * Emits `data` from `pieces` in new order: each match as an approximate copy of `old` (which holds the old file
 * from offset `origin`), each filtered region through `onRegion`, and the bytes between them literally.
 */
async function emitPieces(
  w: OpsWriter,
  pieces: Iterable<Piece>,
  old: Uint8Array,
  origin: number,
  data: Uint8Array,
  onRegion: (region: FilterRegion, index: number) => Promise<void>,
): Promise<void> {
  const pause = yielder();
  let pos = 0;
  for (const piece of emitted(pieces)) {
    const wait = pause();
    if (wait) await wait;
    if ('region' in piece) {
      w.insert(data.subarray(pos, piece.region.newStart));
      await onRegion(piece.region, piece.index);
      pos = piece.region.newEnd;
      continue;
    }
    w.insert(data.subarray(pos, piece.newStart));
    const bytes = data.subarray(piece.newStart, piece.newStart + piece.length);
    w.approximate(old, origin + piece.oldStart, bytes, origin);
    pos = piece.newStart + piece.length;
  }
  w.insert(data.subarray(pos));
}

/** A filtered region's bytes in filtered form, where they start in the old file, and their matches. */
interface FilteredWork {
  readonly region: FilterRegion;
  readonly old: Uint8Array;
  readonly neu: Uint8Array;
  readonly origin: number;
  readonly matches: Iterable<Match>;
}

/**
 * Emits the changed file `data` against its old version `oldData` (which starts at `oldOffset` in the old file)
 * with the matches found for them: matched bytes as approximate copies, filtered regions in filtered form, and
 * the bytes between matches literally. With `predict` (both versions are x86 or arm64 executables), in a
 * predicted section of that kind (rel32.ts, arm64.ts) when its runs fit MAX_PREDICT_RUNS.
 */
export async function emitFile(
  w: OpsWriter,
  oldOffset: number,
  oldData: Uint8Array,
  data: Uint8Array,
  found: FileMatches,
  predict?: ExecutableKind,
): Promise<void> {
  const filtered = (region: FilterRegion, index: number): FilteredWork => {
    const old = filterRegion(oldData.subarray(region.oldStart, region.oldEnd), region.filter);
    const neu = filterRegion(data.subarray(region.newStart, region.newEnd), region.filter);
    return {
      region,
      old,
      neu,
      origin: oldOffset + region.oldStart,
      matches: found.regionMatches(index, old, neu),
    };
  };
  const lazy = withRegions(found.matches, found.regions);
  if (!predict)
    return emitPieces(w, lazy, oldData, oldOffset, data, (region, index) =>
      emitFiltered(w, filtered(region, index)),
    );
  // A predicted section's ADDs wait for all its matches (the map), so the literals go ahead of them.
  const works = new Map<number, FilteredWork>();
  const pieces = await collectPieces(
    lazy,
    data,
    (region, index) => {
      const work = filtered(region, index);
      const matched = { ...work, matches: [...work.matches] };
      works.set(index, matched);
      return matched;
    },
    (literal) => w.preInsert(literal),
  );
  const onRegion = async (_region: FilterRegion, index: number) => {
    const work = works.get(index);
    if (!work) throw internalError(`The filtered region ${index} was not matched.`);
    works.delete(index);
    await emitFiltered(w, work);
  };
  const runs = sectionRuns(pieces, oldOffset, w.written);
  if (runs.count > MAX_PREDICT_RUNS) return emitPieces(w, pieces, oldData, oldOffset, data, onRegion);
  const mode: PredictMode =
    predict === 'arm64' ? { kind: PREDICT_ARM64, oldOrigin: oldOffset } : { kind: PREDICT_X86 };
  w.beginPredict(OldToNew.build(runs.triples()), mode);
  await emitPieces(w, pieces, oldData, oldOffset, data, onRegion);
  w.endPredict();
}

/** The literal bytes emitPieces outputs for `matches` over `data` (no regions), in order. */
function* literals(matches: Iterable<Match>, data: Uint8Array): Generator<Uint8Array> {
  let pos = 0;
  for (const m of emitted(matches)) {
    if ('region' in m) throw internalError('The patch plan has a filtered region inside another.');
    yield data.subarray(pos, m.newStart);
    pos = m.newStart + m.length;
  }
  yield data.subarray(pos);
}

/**
 * All of `lazy`'s pieces, found with turns for the event loop, each filtered region matched by `matchRegion`.
 * The literal bytes go to `literal` as soon as they are known, in the order emitPieces outputs them (a region's
 * own between those before and after it): they compress while the rest of the file is matched.
 */
async function collectPieces(
  lazy: Iterable<Piece>,
  data: Uint8Array,
  matchRegion: (region: FilterRegion, index: number) => FilteredWork,
  literal: (bytes: Uint8Array) => void,
): Promise<Piece[]> {
  const pieces: Piece[] = [];
  const kept = (function* () {
    for (const piece of lazy) {
      pieces.push(piece);
      yield piece;
    }
  })();
  const pause = yielder();
  let pos = 0;
  for (const piece of emitted(kept)) {
    const wait = pause();
    if (wait) await wait;
    if ('region' in piece) {
      literal(data.subarray(pos, piece.region.newStart));
      const work = matchRegion(piece.region, piece.index);
      for (const bytes of literals(work.matches, work.neu)) literal(bytes);
      pos = piece.region.newEnd;
    } else {
      literal(data.subarray(pos, piece.newStart));
      pos = piece.newStart + piece.length;
    }
  }
  literal(data.subarray(pos));
  return pieces;
}

/**
 * The runs the applier will map for these pieces (format.ts, PREDICT): the matches emitPieces emits (`emitted`),
 * at their offsets in the old and new files (the new file's being `newOffset` where the file starts). emitPieces
 * turns each into ADDs and COPYs at the same offsets, so the applier collects the same runs from them.
 */
function sectionRuns(pieces: readonly Piece[], oldOffset: number, newOffset: number): RunCollector {
  const runs = new RunCollector();
  for (const piece of emitted(pieces)) {
    if (!('region' in piece)) runs.push(oldOffset + piece.oldStart, newOffset + piece.newStart, piece.length);
  }
  return runs;
}

/** Emits one filtered region, both sides filtered and matched like any file. */
async function emitFiltered(w: OpsWriter, work: FilteredWork): Promise<void> {
  const { region, old, neu, origin } = work;
  w.beginFilter(region.filter, neu.length, origin, old.length);
  // Matches only: a region inside a region cannot come.
  await emitPieces(w, work.matches, old, origin, neu, () => {
    throw internalError('The patch plan has a filtered region inside another.');
  });
  w.endFilter();
}
