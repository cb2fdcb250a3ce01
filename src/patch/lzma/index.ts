/**
 * LZMA for notsotuf patches: a pure TypeScript streaming decoder (clients) and a liblzma-backed encoder loaded
 * only when a publisher creates a patch.
 */
export { type LzmaDecodeOptions, lzmaDecompressStream } from './decoder.js';
export { ALONE_HEADER_SIZE, encodeAloneHeader, type LzmaProperties, parseAloneHeader } from './format.js';
