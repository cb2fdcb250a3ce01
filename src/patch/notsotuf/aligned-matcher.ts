import { bsdiffSteps, type MatchFinder } from '../bsdiff-core.js';
import { HashFinder } from './hash-finder.js';
import type { Match, Matcher } from './matcher.js';

/** bsdiff's alignment (approximate regions chosen by its scan rule) as notsotuf matches, with any finder. */
function* alignedMatches(old: Uint8Array, neu: Uint8Array, finder: MatchFinder): Generator<Match> {
  for (const step of bsdiffSteps(old, neu, finder)) {
    if (step.kind !== 'control' || step.control.addLength === 0) continue;
    const c = step.control;
    yield { newStart: c.newStart, oldStart: c.oldStart, length: c.addLength };
  }
}

/** alignedMatches with a hash index built when the first match is asked for and given back after the last. */
function* hashAlignedMatches(old: Uint8Array, neu: Uint8Array): Generator<Match> {
  const finder = new HashFinder(old, neu);
  try {
    yield* alignedMatches(old, neu, finder);
  } finally {
    finder.release();
  }
}

/** bsdiff's alignment rule with matches looked up in a hash index: nearly the same patches, 5–7 times faster. */
export const hashAlignedMatcher: Matcher = (old, neu) =>
  old.length === 0 || neu.length === 0 ? [] : hashAlignedMatches(old, neu);
