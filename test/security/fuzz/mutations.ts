/**
 * Byte mutations of valid encodings (patches, compressed streams, tars, gzip, metadata files): bit flips, byte
 * writes, truncation, insertion, deletion, and huge values written into the format's numeric header fields.
 */
import fc from 'fast-check';
import { bytesEqual, concatBytes } from './common.js';

/** A header field a mutation may overwrite: `offset` from the start (negative: from the end), `width` bytes LE. */
export interface FieldSpec {
  readonly offset: number;
  readonly width: number;
}

/** What a format looks like to the mutator: its header size and numeric header fields. */
export interface Layout {
  readonly headerSize: number;
  readonly fields: readonly FieldSpec[];
}

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'headerByte'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'fill'; at: number; length: number; value: number }
  | { kind: 'field'; field: number; value: bigint }
  | { kind: 'nudge'; field: number; delta: number };

/** Values that break length arithmetic: zero, sign bits, 2^31/2^32/2^40/2^53/2^63/2^64 boundaries. */
const HUGE_VALUES: readonly bigint[] = [
  0n,
  1n,
  0x7fn,
  0x80n,
  0xffn,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 40n,
  2n ** 40n + 1n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 63n + 1n,
  2n ** 64n - 1n,
];

/** One to `maxLength` mutations of an input of the given layout. */
export function mutationArb(layout: Layout, maxLength = 4): fc.Arbitrary<Mutation[]> {
  const at = fc.nat();
  const byte = fc.integer({ min: 0, max: 255 });
  const kinds: fc.Arbitrary<Mutation>[] = [
    fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at, value: byte }),
    fc.record({ kind: fc.constant('headerByte' as const), at, value: byte }),
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({
      kind: fc.constant('insert' as const),
      at,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({
      kind: fc.constant('fill' as const),
      at,
      length: fc.integer({ min: 1, max: 64 }),
      value: fc.constantFrom(0, 0xff),
    }),
  ];
  if (layout.fields.length > 0) {
    const field = fc.nat(layout.fields.length - 1);
    kinds.push(
      fc.record({
        kind: fc.constant('field' as const),
        field,
        value: fc.oneof(fc.constantFrom(...HUGE_VALUES), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      }),
      fc.record({ kind: fc.constant('nudge' as const), field, delta: fc.integer({ min: -3, max: 3 }) }),
    );
  }
  return fc.array(fc.oneof(...kinds), { minLength: 1, maxLength });
}

/** No mutation (the intact encoding, which must decode) or a few. */
export function maybeMutations(layout: Layout): fc.Arbitrary<Mutation[]> {
  return fc.oneof(fc.constant<Mutation[]>([]), mutationArb(layout));
}

export function readLE(buf: Uint8Array, offset: number, width: number): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[offset + i] ?? 0);
  return v;
}

export function writeLE(buf: Uint8Array, offset: number, width: number, value: bigint): void {
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width && offset + i < buf.length; i++) {
    buf[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Applies `mutations` in order; positions are taken modulo the current length, so any list fits any input. */
export function mutate(input: Uint8Array, mutations: readonly Mutation[], layout: Layout): Uint8Array {
  let buf: Uint8Array = Uint8Array.from(input);
  for (const m of mutations) {
    const n = buf.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) buf[m.at % n]! ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) buf[m.at % n] = m.value;
        break;
      case 'headerByte': {
        const h = Math.min(n, layout.headerSize);
        if (h > 0) buf[m.at % h] = m.value;
        break;
      }
      case 'truncate':
        buf = buf.slice(0, m.at % (n + 1));
        break;
      case 'insert': {
        const p = m.at % (n + 1);
        buf = concatBytes([buf.subarray(0, p), m.bytes, buf.subarray(p)]);
        break;
      }
      case 'delete': {
        const p = m.at % (n + 1);
        buf = concatBytes([buf.subarray(0, p), buf.subarray(Math.min(n, p + m.length))]);
        break;
      }
      case 'fill':
        if (n > 0) {
          const p = m.at % n;
          buf.fill(m.value, p, Math.min(n, p + m.length));
        }
        break;
      case 'field':
      case 'nudge': {
        const f = layout.fields[m.field % layout.fields.length]!;
        const offset = f.offset >= 0 ? f.offset : n + f.offset;
        if (offset < 0 || offset + f.width > n) break;
        const value = m.kind === 'field' ? m.value : readLE(buf, offset, f.width) + BigInt(m.delta);
        writeLE(buf, offset, f.width, value);
        break;
      }
    }
  }
  return buf;
}

/** A valid encoding, mutated: the bytes, and whether the mutations left them intact. */
export function mutated(
  good: Uint8Array,
  mutations: readonly Mutation[],
  layout: Layout,
): { bytes: Uint8Array; intact: boolean } {
  const bytes = mutate(good, mutations, layout);
  return { bytes, intact: bytesEqual(good, bytes) };
}
