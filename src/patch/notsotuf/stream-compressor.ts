import type { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { brotliCompress, createBrotliCompress, constants as zlibConstants } from 'node:zlib';
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
/**
 * bzip2's block size in a patch, in units of 100 kB: the smallest. On the corpus's plain diffs (the only streams
 * bzip2 wins) it made them smaller, not larger (es −3.7 %, macho −2.0 % against 900 kB blocks: a diff's statistics
 * change within a block), and a client decodes a 100 kB block in 0.4 MB of tables instead of 3.6 MB.
 */
const PATCH_BZIP2_BLOCK = 1;

/** bzip2 of a patch stream, in PATCH_BZIP2_BLOCK blocks. */
export function bzip2Patch(bytes: Uint8Array): Uint8Array {
  return bzip2Compress(bytes, { blockSize100k: PATCH_BZIP2_BLOCK });
}

/** Up to this size every stream also tries brotli at its quality: at most a few tenths of a second. */
const TINY_STREAM = 128 << 10;

/**
 * When a stream larger than TINY_STREAM also tries brotli (with liblzma there; without it brotli always runs):
 * - `always`: at quality 10, fed while the patch is planned. The ops stream: brotli's context modelling of its
 *   kind bytes and varints beats LZMA by 3–5 % at every size measured (70 KB to 3 MB).
 * - `text`: up to SMALL_STREAM, when the stream looks like text (inserted source, where brotli's dictionary helps).
 * - `never`: LZMA won every diff stream over 64 KB of the nine corpus pairs, and brotli 11 cost 1–2 s each.
 */
export type LargeBrotli = 'always' | 'text' | 'never';

export interface StreamPolicy {
  /** Brotli quality for a stream of at most TINY_STREAM (and for every stream without liblzma). */
  readonly brotliQuality: number;
  readonly largeBrotli: LargeBrotli;
  /** LZMA's literal model for this stream's kind of data. */
  readonly literal?: LzmaLiteralModel;
  /** Also try bzip2 on a stream of at most SMALL_STREAM (always without liblzma). */
  readonly withBzip2?: boolean;
}

export interface Compressed {
  readonly data: Uint8Array;
  readonly method: StreamMethod;
  /** When LZMA won and brotli was tried too: brotli's result (see preferNative). */
  readonly brotli?: Uint8Array;
}

/**
 * Share of the patch's size that LZMA must save over brotli, on all of the patch's LZMA streams together, to be
 * used: a client decodes brotli natively and LZMA in JavaScript, whose decoder's code and compilation cost about
 * 1.5 MB of apply memory and tens of ms (esbuild for macOS: a 13 KB extra stream was 198 bytes smaller with LZMA,
 * and its apply peaked 1.5 MB higher).
 */
const NATIVE_MARGIN = 0.01;

/**
 * The streams, with brotli's results instead of LZMA's when every LZMA stream has one and together they cost
 * under NATIVE_MARGIN of the patch; otherwise as they are.
 */
export function preferNative(streams: readonly Compressed[]): Compressed[] {
  const lzma = streams.filter((s) => s.method === METHOD_LZMA);
  if (lzma.length === 0 || lzma.some((s) => s.brotli === undefined)) return [...streams];
  const total = streams.reduce((n, s) => n + s.data.length, 0);
  const extra = lzma.reduce((n, s) => n + s.brotli!.length - s.data.length, 0);
  if (extra >= NATIVE_MARGIN * total) return [...streams];
  return streams.map((s) => (s.method === METHOD_LZMA ? { data: s.brotli!, method: METHOD_BROTLI } : s));
}

/**
 * One compressed stream of a patch, fed while the patch is planned. liblzma compresses it from the first byte, on
 * its own thread alongside the matcher, so its time hides behind the plan's. Up to SMALL_STREAM the bytes are also
 * held, and at the end brotli and bzip2 are tried on them as the policy says; the smallest result is kept. bzip2
 * runs here on the main thread (1.4 s of a 7 s create on `lcss`) and won no stream of the nine corpus pairs but
 * the plain diff form, so only that stream asks for it. Without liblzma: brotli and bzip2, the smaller.
 */
export class StreamCompressor {
  private held: Uint8Array[] | undefined = [];
  private length = 0;
  private readonly encoder: LzmaStreamEncoder | undefined;
  private readonly streamingBrotli: { stream: Transform; output: Promise<Buffer> } | undefined;

  /** @param lzma liblzma, or undefined when it is not available */
  constructor(
    private readonly lzma: LzmaNative | undefined,
    private readonly policy: StreamPolicy,
  ) {
    if (lzma)
      this.encoder = new LzmaStreamEncoder(lzma, MAX_LZMA_DICT, policy.literal ?? DEFAULT_LITERAL_MODEL);
    if (lzma && policy.largeBrotli === 'always') this.streamingBrotli = startBrotli(10);
  }

  /** Takes `chunk`, which the caller must not change afterwards. */
  readonly push = (chunk: Uint8Array): void => {
    if (chunk.length === 0) return;
    this.length += chunk.length;
    this.encoder?.write(chunk);
    this.streamingBrotli?.stream.write(chunk);
    // Without liblzma every byte is held: brotli and bzip2 then compress the whole stream at the end.
    if (this.lzma && this.length > SMALL_STREAM) this.held = undefined;
    this.held?.push(chunk);
  };

  async finish(): Promise<Compressed> {
    this.streamingBrotli?.stream.end();
    const bytes = this.held ? Buffer.concat(this.held) : undefined;
    const candidates: Promise<Compressed>[] = [];
    if (this.encoder) candidates.push(this.encoder.finish().then((data) => ({ data, method: METHOD_LZMA })));
    const brotliQuality = bytes && oneShotBrotliQuality(this.policy, bytes, this.lzma !== undefined);
    // A tiny stream's one-shot brotli at its own quality replaces the streaming one.
    if (bytes && brotliQuality !== undefined)
      candidates.push(brotliCandidate(brotli(bytes, brotliParams(brotliQuality, bytes.length))));
    else if (this.streamingBrotli) candidates.push(brotliCandidate(this.streamingBrotli.output));
    // liblzma and brotli run on their own threads while bzip2 runs here: all at once.
    if (bytes && (this.policy.withBzip2 || !this.lzma))
      candidates.push(Promise.resolve({ data: bzip2Patch(bytes), method: METHOD_BZIP2 }));
    const results = await Promise.all(candidates);
    const best = results.reduce((b, c) => (c.data.length < b.data.length ? c : b));
    const brotliResult = results.find((c) => c.method === METHOD_BROTLI);
    return best.method === METHOD_LZMA && brotliResult ? { ...best, brotli: brotliResult.data } : best;
  }

  destroy(): void {
    this.encoder?.destroy();
    this.streamingBrotli?.stream.destroy();
  }
}

/**
 * The quality of a one-shot brotli of a held stream's `bytes` at the end, or undefined for none (a stream with
 * `largeBrotli: 'always'` above TINY_STREAM has its streaming one instead).
 */
export function oneShotBrotliQuality(
  policy: StreamPolicy,
  bytes: Uint8Array,
  withLzma: boolean,
): number | undefined {
  const { brotliQuality, largeBrotli } = policy;
  if (!withLzma) return bytes.length > BROTLI_Q11_LIMIT ? Math.min(brotliQuality, 10) : brotliQuality;
  if (bytes.length <= TINY_STREAM) return brotliQuality;
  if (largeBrotli === 'text' && mostlyText(bytes)) return brotliQuality;
  return undefined;
}

/**
 * True when under 1 % of the bytes are control characters other than NUL and whitespace. NULs are let through:
 * inserted text comes with the tar headers and padding of its files. Measured on the corpus's extra streams:
 * inserted source (typescript) has none; native code 8–27 %.
 */
export function mostlyText(bytes: Uint8Array): boolean {
  let control = 0;
  for (const b of bytes) if (b !== 0 && b < 32 && (b < 9 || b > 13)) control++;
  return control < bytes.length / 100;
}

function brotliParams(quality: number, sizeHint?: number): { params: Record<number, number> } {
  return {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: quality,
      // A 1 MiB window, which is what a decoder keeps of a stream made in pieces: the ops stream is, and apply
      // decodes it twice at once when it predicts. Against 4 MiB: turbo's apply peak 84 → 78 MB for a 0.8 %
      // larger ops stream (14 KB of an 8.3 MB patch); biome +0.6 KB, and 16 MiB saved at most 0.08 %.
      [zlibConstants.BROTLI_PARAM_LGWIN]: 20,
      ...(sizeHint === undefined ? {} : { [zlibConstants.BROTLI_PARAM_SIZE_HINT]: sizeHint }),
    },
  };
}

function brotliCandidate(output: Promise<Buffer>): Promise<Compressed> {
  return output.then((data) => ({ data, method: METHOD_BROTLI }));
}

/** A brotli compressor fed chunk by chunk on libuv's threads; `output` settles with the whole stream. */
function startBrotli(quality: number): { stream: Transform; output: Promise<Buffer> } {
  const stream = createBrotliCompress(brotliParams(quality));
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  const output = new Promise<Buffer>((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
  output.catch(() => undefined); // observed in finish(); an abandoned stream must not crash the process
  return { stream, output };
}
