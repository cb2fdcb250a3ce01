import { bsdiffSteps, type MatchFinder } from '../bsdiff-core.js';
import type { Match, Matcher } from './create.js';
import { HashFinder } from './hash-finder.js';

/** bsdiff's alignment (approximate regions chosen by its scan rule) as notsotuf matches, with any finder. */
function* alignedMatches(old: Uint8Array, neu: Uint8Array, finder: MatchFinder): Generator<Match> {
  for (const step of bsdiffSteps(old, neu, finder)) {
    if (step.kind !== 'control' || step.control.addLength === 0) continue;
    const c = step.control;
    yield { newStart: c.newStart, oldStart: c.oldStart, length: c.addLength };
  }
}

/** bsdiff's alignment rule with matches looked up in a hash index: nearly the same patches, 5–7 times faster. */
export const hashAlignedMatcher: Matcher = (old, neu) =>
  old.length === 0 || neu.length === 0 ? [] : alignedMatches(old, neu, new HashFinder(old, neu));
