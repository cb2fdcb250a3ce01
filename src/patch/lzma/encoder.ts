import { encodeAloneHeader, parseAloneHeader } from './format.js';

export interface LzmaEncodeOptions {
  /** The dictionary size, which is also the decoder's window (clients' memory). */
  readonly dictSize: number;
}

type LzmaNative = typeof import('lzma-native');
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

/**
 * Compresses `data` to a `.lzma` stream whose header records the exact size (liblzma's alone encoder writes
 * "unknown" and an end marker; the decoder accepts both). Undefined when liblzma is not available. Runs on
 * liblzma's own thread, so several streams compress in parallel.
 */
export async function lzmaCompress(
  data: Uint8Array,
  options: LzmaEncodeOptions,
): Promise<Uint8Array | undefined> {
  const lzma = await loadLzmaNative();
  if (!lzma) return undefined;
  // liblzma's preset 6 spelled out (so a liblzma update cannot change it) with our dictionary: on the benchmark's
  // streams preset 9 and "extreme" gain 1–5 % for 2–10 times the time.
  const encoder = lzma.createStream('aloneEncoder', {
    dictSize: options.dictSize,
    lc: 3,
    lp: 0,
    pb: 2,
    mode: lzma.MODE_NORMAL,
    mf: lzma.MF_BT4,
    niceLen: 64,
    depth: 0,
  });
  const chunks: Buffer[] = [];
  encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', reject);
  });
  encoder.end(data);
  await done;
  const out = Buffer.concat(chunks);
  const props = parseAloneHeader(out, Number.MAX_SAFE_INTEGER);
  out.set(encodeAloneHeader({ ...props, size: data.length }), 0);
  return out;
}
