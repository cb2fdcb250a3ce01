import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants } from 'node:zlib';
import { bzip2Compress } from '../bzip2/index.js';
import {
  DEFAULT_LITERAL_MODEL,
  type LzmaLiteralModel,
  type LzmaNative,
  LzmaStreamEncoder,
} from '../lzma/encoder.js';
import { MAX_LZMA_DICT, METHOD_BROTLI, METHOD_BZIP2, METHOD_LZMA, type StreamMethod } from './format.js';

const brotli = promisify(brotliCompress);

/** Above this size brotli quality 11 costs minutes for a few percent (docs/patch-formats.md, measurements). */
const BROTLI_Q11_LIMIT = 4 << 20;
/** Streams up to this size also try brotli and bzip2 when LZMA is available: cheap, and they win on some. */
export const SMALL_STREAM = 1 << 20;

export interface Compressed {
  readonly data: Uint8Array;
  readonly method: StreamMethod;
}

/**
 * One compressed stream of a patch, fed while the patch is planned. Once it passes 1 MiB it goes to liblzma,
 * which compresses on its own thread alongside the matcher; a smaller stream is held and, at the end, compressed
 * with liblzma and brotli (and bzip2 when asked), keeping the smallest. LZMA wins on every large stream of the
 * benchmark pairs at a fraction of brotli 11's time (numbers: docs/patch-formats.md, measurements). bzip2 won no
 * small stream of the nine corpus pairs but the plain diff form, and it runs here on the main thread (1.4 s of a
 * 7 s create on `lcss`), so only that stream asks for it. Without liblzma: brotli and bzip2, the smaller.
 */
export class StreamCompressor {
  private held: Uint8Array[] = [];
  private heldLength = 0;
  private encoder: LzmaStreamEncoder | undefined;

  /**
   * @param lzma liblzma, or undefined when it is not available
   * @param literal LZMA's literal model for this stream's kind of data
   * @param withBzip2 also try bzip2 on a small stream (always without liblzma)
   */
  constructor(
    private readonly lzma: LzmaNative | undefined,
    private readonly brotliQuality: number,
    private readonly literal: LzmaLiteralModel = DEFAULT_LITERAL_MODEL,
    private readonly withBzip2 = false,
  ) {}

  /** Takes `chunk`, which the caller must not change afterwards. */
  readonly push = (chunk: Uint8Array): void => {
    if (chunk.length === 0) return;
    if (this.encoder) {
      this.encoder.write(chunk);
      return;
    }
    this.held.push(chunk);
    this.heldLength += chunk.length;
    if (this.lzma && this.heldLength > SMALL_STREAM) {
      this.encoder = new LzmaStreamEncoder(this.lzma, MAX_LZMA_DICT, this.literal);
      for (const part of this.held) this.encoder.write(part);
      this.held = [];
    }
  };

  async finish(): Promise<Compressed> {
    if (this.encoder) return { data: await this.encoder.finish(), method: METHOD_LZMA };
    const bytes = Buffer.concat(this.held);
    let viaLzma: Promise<Uint8Array> | undefined;
    if (this.lzma) {
      const encoder = new LzmaStreamEncoder(this.lzma, MAX_LZMA_DICT, this.literal);
      encoder.write(bytes);
      viaLzma = encoder.finish();
    }
    // liblzma and brotli run on their own threads while bzip2 runs here: all at once.
    const quality = bytes.length > BROTLI_Q11_LIMIT ? Math.min(this.brotliQuality, 10) : this.brotliQuality;
    const viaBrotli = compressBrotli(bytes, quality);
    const candidates: Compressed[] = [];
    if (this.withBzip2 || !this.lzma) candidates.push({ data: bzip2Compress(bytes), method: METHOD_BZIP2 });
    candidates.push({ data: await viaBrotli, method: METHOD_BROTLI });
    if (viaLzma) candidates.push({ data: await viaLzma, method: METHOD_LZMA });
    return candidates.reduce((best, c) => (c.data.length < best.data.length ? c : best));
  }

  destroy(): void {
    this.encoder?.destroy();
  }
}

function compressBrotli(bytes: Uint8Array, quality: number): Promise<Buffer> {
  return brotli(bytes, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: quality,
      // 16 MiB window: the most a standard brotli decoder keeps in memory, so apply stays bounded.
      [zlibConstants.BROTLI_PARAM_LGWIN]: 24,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}
