import type { Duplex } from 'node:stream';
import { encodeAloneHeader, parseAloneHeader } from './format.js';

export type LzmaNative = typeof import('lzma-native');
let loading: Promise<LzmaNative | undefined> | undefined;

/**
 * liblzma through lzma-native, an optional dependency with prebuilt binaries that only publishers need; loaded on
 * first use so an app that embeds the client never loads it. Undefined when it is not installed or does not
 * load on this platform (patches then fall back to brotli and bzip2).
 */
export function loadLzmaNative(): Promise<LzmaNative | undefined> {
  loading ??= import('lzma-native').then(
    (mod: LzmaNative & { default?: LzmaNative }) => mod.default ?? mod,
    () => undefined,
  );
  return loading;
}

/** How LZMA models literals: `lc` high bits of the previous byte and `pb` low bits of the position as context. */
export interface LzmaLiteralModel {
  readonly lc: number;
  readonly pb: number;
}

/** liblzma's default: suits text and code, where the previous byte and 4-byte alignment predict the next. */
export const DEFAULT_LITERAL_MODEL: LzmaLiteralModel = { lc: 3, pb: 2 };

/**
 * A `.lzma` encoder fed chunk by chunk: liblzma compresses on its own thread while the caller goes on producing
 * (a patch's streams compress while its matcher runs). The header records the exact size at the end (liblzma
 * writes "unknown" and an end marker; our decoder accepts both).
 */
export class LzmaStreamEncoder {
  private readonly encoder: Duplex;
  private readonly output: Buffer[] = [];
  private readonly done: Promise<void>;
  private size = 0;

  /**
   * @param dictSize the dictionary size, which is also the decoder's window (clients' memory)
   * @param literal the literal context bits (lc) and position bits (pb) that suit the data
   */
  constructor(lzma: LzmaNative, dictSize: number, literal: LzmaLiteralModel = DEFAULT_LITERAL_MODEL) {
    // liblzma's preset 6 spelled out (so a liblzma update cannot change it) with our dictionary: higher presets
    // gain a few percent for several times the time (docs/patch-formats.md, measurements).
    this.encoder = lzma.createStream('aloneEncoder', {
      dictSize,
      lc: literal.lc,
      lp: 0,
      pb: literal.pb,
      mode: lzma.MODE_NORMAL,
      mf: lzma.MF_BT4,
      niceLen: 64,
      depth: 0,
    });
    this.encoder.on('data', (chunk: Buffer) => this.output.push(chunk));
    this.done = new Promise<void>((resolve, reject) => {
      this.encoder.on('end', resolve);
      this.encoder.on('error', reject);
    });
    this.done.catch(() => undefined); // observed in finish(); an abandoned encoder must not crash the process
  }

  /** Queues `chunk`, which the caller must not change afterwards. */
  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.encoder.write(chunk);
  }

  async finish(): Promise<Uint8Array> {
    this.encoder.end();
    await this.done;
    const out = Buffer.concat(this.output);
    const props = parseAloneHeader(out, Number.MAX_SAFE_INTEGER);
    out.set(encodeAloneHeader({ ...props, size: this.size }), 0);
    return out;
  }

  /** Stops the encoder (an abandoned patch). */
  destroy(): void {
    this.encoder.destroy();
  }
}

/** Compresses `data` whole; undefined when liblzma is not available. */
export async function lzmaCompress(
  data: Uint8Array,
  options: { dictSize: number },
): Promise<Uint8Array | undefined> {
  const lzma = await loadLzmaNative();
  if (!lzma) return undefined;
  const encoder = new LzmaStreamEncoder(lzma, options.dictSize);
  encoder.write(data);
  return encoder.finish();
}
