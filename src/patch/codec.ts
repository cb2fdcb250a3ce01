/** Progress of a long patch operation, in bytes of the input being processed. */
export interface PatchProgress {
  readonly done: number;
  readonly total: number;
}

export interface CreatePatchOptions {
  /** The previous release's uncompressed tar. */
  readonly oldPath: string;
  /** The new release's uncompressed tar. */
  readonly newPath: string;
  /** Where the patch goes (the caller makes this a temp path and renames it). */
  readonly outPath: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: PatchProgress) => void;
}

export interface ApplyPatchOptions {
  /** The current release's uncompressed tar. */
  readonly oldPath: string;
  readonly patchPath: string;
  /** Where the rebuilt tar goes (the caller makes this a temp path, verifies it, and renames it). */
  readonly outPath: string;
  /**
   * The size the result must have (from signed metadata). A codec stops as soon as the output would exceed it,
   * and may use it to refuse patches that declare another size before doing any work.
   */
  readonly expectedSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: PatchProgress) => void;
  /**
   * Receives the output as it is written, every byte once and in order, so that the caller can hash or compress
   * the result in the same pass instead of reading the file again. The bytes are only valid during the call (copy
   * them to keep them); a returned promise is awaited before the codec goes on.
   */
  readonly onOutput?: (bytes: Uint8Array) => void | Promise<void>;
}

/**
 * A binary patch format. Codecs are pure byte transforms between files: they never trust a patch (every length
 * and offset in it is checked before use, and allocation is never driven by an unchecked field), they stream
 * their output, and they throw NotsotufError `PATCH_INVALID` on malformed input.
 */
export interface PatchCodec {
  /** Name stored in `custom.tufup.notsotuf.patch` and chosen with `--patch-codec`. */
  readonly name: string;
  /** Whether `head` (the first bytes of a patch file, at least 16 when the file is that long) is this format. */
  identify(head: Uint8Array): boolean;
  /** Writes a patch that turns `oldPath` into `newPath`. Returns the patch size. */
  create(options: CreatePatchOptions): Promise<{ size: number }>;
  /** Rebuilds the new file from `oldPath` and the patch. Returns the size written. */
  apply(options: ApplyPatchOptions): Promise<{ size: number }>;
}
