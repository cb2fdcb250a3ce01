/**
 * The `bsdiff4` patch codec: exactly the BSDIFF40 format of tufup (Python bsdiff4) and Debian's bsdiff/bspatch,
 * so patches flow both ways between notsotuf and tufup repositories.
 *
 * Layout: "BSDIFF40", three sign-magnitude little-endian int64s (compressed control block length, compressed diff
 * block length, new file size), then three bzip2 streams: control triples (add length, copy length, seek), diff
 * bytes, extra bytes.
 */
import { hasBsdiff4Magic } from './bsdiff4-header.js';
import type { PatchCodec } from './codec.js';

/**
 * The bsdiff4 codec. `create` throws IO_ERROR or ABORTED; `apply` throws PATCH_INVALID for a malformed patch or
 * one whose size differs from `expectedSize`, IO_ERROR and ABORTED, and never leaves a partial output behind.
 *
 * @example
 * ```ts
 * await bsdiff4Codec.create({ oldPath: 'app-1.0.tar', newPath: 'app-2.0.tar', outPath: 'app-2.0.patch' });
 * await bsdiff4Codec.apply({ oldPath: 'app-1.0.tar', patchPath: 'app-2.0.patch', outPath: 'app-2.0.tar' });
 * ```
 */
export const bsdiff4Codec: PatchCodec = {
  name: 'bsdiff4',
  identify: hasBsdiff4Magic,
  // Each half is loaded on first use (the suffix sort and the bzip2 encoder are not needed to apply).
  create: async (options) => (await import('./bsdiff4-create.js')).createBsdiff4(options),
  apply: async (options) => (await import('./bsdiff4-apply.js')).applyBsdiff4(options),
};
