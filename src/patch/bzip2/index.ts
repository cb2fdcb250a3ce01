/**
 * bzip2 in pure TypeScript: the streaming decoder clients use to apply bsdiff patches, and the encoder the
 * publisher uses to write them. Both interoperate with bzip2 1.0.x (and so Python's bz2 module).
 */
export { type Bzip2DecodeOptions, bzip2Decompress, bzip2DecompressStream } from './decoder.js';
export { type Bzip2EncodeOptions, Bzip2Encoder, bzip2Compress, bzip2CompressChunks } from './encoder.js';
