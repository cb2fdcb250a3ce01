import { bsdiffSteps } from '../bsdiff-core.js';
import { buildSuffixArray } from '../suffix-array.js';
import type { Match, Matcher } from './create.js';

/**
 * bsdiff's own matcher (suffix array of the old file, longest matches, approximate regions) as a notsotuf
 * matcher: slower and hungrier than the hash matcher (4 bytes of index per old byte), but it finds the alignment
 * of shifted native code more precisely.
 */
export const suffixMatcher: Matcher = function* (old, neu) {
  if (old.length === 0 || neu.length === 0) return;
  const sa = buildSuffixArray(old);
  for (const step of bsdiffSteps(old, neu, sa)) {
    if (step.kind !== 'control' || step.control.addLength === 0) continue;
    const c = step.control;
    const match: Match = { newStart: c.newStart, oldStart: c.oldStart, length: c.addLength };
    yield match;
  }
};
