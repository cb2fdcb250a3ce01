// The part of lzma-native (liblzma bindings, an optional dependency) that the encoder uses; it ships no types.
declare module 'lzma-native' {
  import type { Duplex } from 'node:stream';

  // Field names as its C++ side reads them; a `preset` would be applied last and override all of them.
  interface AloneEncoderOptions {
    dictSize?: number;
    lc?: number;
    lp?: number;
    pb?: number;
    mode?: number;
    mf?: number;
    niceLen?: number;
    depth?: number;
  }
  export const MODE_NORMAL: number;
  export const MF_BT4: number;
  export function createStream(coder: 'aloneEncoder', options?: AloneEncoderOptions): Duplex;
}
