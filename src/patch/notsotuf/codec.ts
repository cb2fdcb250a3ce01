import type { PatchCodec } from '../codec.js';
import { applyNotsotufPatch } from './apply.js';
import { createNotsotufPatch, type Matcher } from './create.js';
import { MAGIC } from './format.js';

/** The notsotuf codec with a given matcher (the matcher only affects creation; apply is the same for all). */
export function notsotufCodec(matcher: Matcher): PatchCodec {
  return {
    name: 'notsotuf',
    identify: (head) =>
      head.length >= MAGIC.length && MAGIC.equals(Buffer.from(head.subarray(0, MAGIC.length))),
    create: (options) => createNotsotufPatch(options, matcher),
    apply: (options) => applyNotsotufPatch(options),
  };
}
