import { bsdiff4Codec } from './bsdiff4-codec.js';
import { registerCodec } from './engine.js';
import { notsotufCodec } from './notsotuf/codec.js';

/** tufup's patch format; the only one tufup clients can apply. */
export const TUFUP_PATCH_CODEC = 'bsdiff4';
/** notsotuf's own format: tar-aware, bsdiff-class matching, brotli streams. */
export const DEFAULT_PATCH_CODEC = 'notsotuf';

registerCodec(notsotufCodec());
registerCodec(bsdiff4Codec);

/** The default codec for a repository: tufup's for tufup-style (non-consistent) layouts, else notsotuf's. */
export function defaultPatchCodec(consistentSnapshot: boolean): string {
  return consistentSnapshot ? DEFAULT_PATCH_CODEC : TUFUP_PATCH_CODEC;
}

export { applyPatchFile, codecByName, codecNames, createPatchFile, identifyPatch } from './engine.js';
