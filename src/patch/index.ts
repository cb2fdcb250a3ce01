/**
 * Binary patch codecs between release tars. `bsdiff4` is tufup's format; its pieces (suffix arrays, the bsdiff
 * matcher, bzip2) are exported for codecs built on them.
 */
export {
  type BsdiffControl,
  type BsdiffStep,
  bsdiffSteps,
  type MatchFinder,
  SuffixArrayFinder,
} from './bsdiff-core.js';
export { bsdiff4Codec } from './bsdiff4-codec.js';
export { type BsdiffBlocks, diffBlocks } from './bsdiff4-create.js';
export {
  type Bzip2DecodeOptions,
  type Bzip2EncodeOptions,
  Bzip2Encoder,
  bzip2Compress,
  bzip2CompressChunks,
  bzip2Decompress,
  bzip2DecompressStream,
} from './bzip2/index.js';
export type { ApplyPatchOptions, CreatePatchOptions, PatchCodec, PatchProgress } from './codec.js';
export { buildSuffixArray } from './suffix-array.js';
