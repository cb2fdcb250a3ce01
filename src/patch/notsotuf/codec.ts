import type { PatchCodec } from '../codec.js';
import { MAGIC } from './format.js';
import type { Matcher } from './matcher.js';

/**
 * The notsotuf codec. `matcher` only affects creation (apply is the same for all); without one, creation uses the
 * adaptive matcher in parallel workers. Both halves are loaded on first use: an app that only applies patches
 * never loads the matchers and encoders, which would cost it startup time and memory.
 */
export function notsotufCodec(matcher?: Matcher): PatchCodec {
  return {
    name: 'notsotuf',
    // Any format version is ours: apply then says which versions it reads.
    identify: (head) =>
      head.length >= MAGIC.length &&
      MAGIC.subarray(0, -1).equals(Buffer.from(head.subarray(0, MAGIC.length - 1))),
    create: async (options) => {
      const { createNotsotufPatch } = await import('./create.js');
      if (matcher) return createNotsotufPatch(options, { matcher, parallel: false });
      const { adaptiveMatcher } = await import('./adaptive-matcher.js');
      return createNotsotufPatch(options, { matcher: adaptiveMatcher, parallel: true });
    },
    apply: async (options) => (await import('./apply.js')).applyNotsotufPatch(options),
  };
}
