import type { PatchCodec } from '../codec.js';
import { adaptiveMatcher } from './adaptive-matcher.js';
import { applyNotsotufPatch } from './apply.js';
import { createNotsotufPatch } from './create.js';
import { MAGIC } from './format.js';
import type { Matcher } from './matcher.js';

/** The notsotuf codec with a given matcher (the matcher only affects creation; apply is the same for all). */
export function notsotufCodec(matcher: Matcher): PatchCodec {
  return {
    name: 'notsotuf',
    // Any format version is ours: apply then says which versions it reads.
    identify: (head) =>
      head.length >= MAGIC.length &&
      MAGIC.subarray(0, -1).equals(Buffer.from(head.subarray(0, MAGIC.length - 1))),
    create: (options) => createNotsotufPatch(options, { matcher, parallel: matcher === adaptiveMatcher }),
    apply: (options) => applyNotsotufPatch(options),
  };
}
