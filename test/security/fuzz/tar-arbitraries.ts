/**
 * Hostile tars for the tar reader and extractor: members of every type with hostile names and links, PAX and GNU
 * extensions, header fields edited behind a fixed checksum, byte mutations, and tars whose members interact.
 */
import fc from 'fast-check';
import { type RawMember, rawMember } from '../../archive/raw-tar.js';
import { concatBytes } from './common.js';
import { type Layout, type Mutation, mutate, mutationArb } from './mutations.js';

const fits = (s: string, bytes: number) => Buffer.byteLength(s) <= bytes;

/** A link name that tarArb replaces with the name of the member before. */
const PREVIOUS = '\u0000previous';

/** One member (or extension header): hostile names, types, modes, links, size encodings and checksums. */
export function memberArb(scale: number): fc.Arbitrary<RawMember> {
  const segment = fc.oneof(
    { weight: 20, arbitrary: fc.stringMatching(/^[a-z]{1,6}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '..',
        '.',
        '',
        'A',
        'a',
        'x:y',
        'c\\d',
        'é',
        'e\u0301',
        'CON',
        ' ',
        '\u0000',
      ),
    },
  );
  const relPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
  const name = fc.oneof(
    { weight: 6, arbitrary: relPath },
    { weight: 2, arbitrary: relPath.map((p) => `./${p}`) },
    { weight: 1, arbitrary: relPath.map((p) => `${p}/`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/etc/passwd',
        '../outside/x',
        '../../x',
        'a/../../x',
        'C:\\x',
        'C:x',
        '\\\\srv\\x',
        '.',
        './',
        '',
        'box/../dest2',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  );
  const linkname = fc.oneof(
    { weight: 4, arbitrary: relPath },
    // Resolved by tarArb to the name of a member before: a hard link to a file extracted earlier.
    { weight: 4, arbitrary: fc.constant(PREVIOUS) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..',
        '../outside',
        '../outside/keep.txt',
        '/etc',
        '/tmp',
        '.',
        './',
        'a',
        'a/b',
        '../../..',
        'a/../..',
        '',
      ),
    },
  );
  const data = fc.oneof(fc.uint8Array({ maxLength: 1200 * scale }), fc.constant(new Uint8Array(0)));
  const longText = fc
    .tuple(relPath, fc.integer({ min: 90, max: 300 }))
    .map(([p, n]) => `${'l'.repeat(n)}/${p}`);
  const paxRecord = fc.tuple(
    fc.constantFrom('path', 'linkpath', 'size', 'mtime', 'comment', 'SCHILY.xattr.x'),
    fc.oneof(
      relPath,
      longText,
      linkname,
      fc.constantFrom('', '0', '12', '-1', '1.5', '99999999999999999999', '1e3', '1600000000.25', 'x'),
    ),
  );
  const paxBodyArb = fc.array(paxRecord, { maxLength: 4 }).map((records) =>
    Buffer.concat(
      records.map(([key, value]) => {
        const rest = Buffer.byteLength(` ${key}=${value}\n`);
        let len = rest + String(rest).length;
        while (String(len).length + rest !== len) len = String(len).length + rest;
        return Buffer.from(`${len} ${key}=${value}\n`);
      }),
    ),
  );
  const plain = fc
    .record(
      {
        name,
        type: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('0', '5', '2', '1') },
          { weight: 2, arbitrary: fc.constantFrom('\0', '3', '4', '6', '7', 'g', 'S', 'V', 'Z') },
        ),
        data,
        mode: fc.oneof(
          fc.constantFrom(0o644, 0o755, 0o777, 0o4755, 0o2755, 0o1777, 0o000, 0o200),
          fc.nat(0o7777),
        ),
        mtime: fc.oneof(fc.constantFrom(0, 1704110400, 2 ** 33 - 1), fc.nat()),
        linkname,
        prefix: fc.oneof(fc.constant(''), relPath),
        magic: fc.constantFrom('ustar' as const, 'gnu' as const, 'v7' as const),
        base256Size: fc.boolean(),
        badChecksum: fc.oneof(
          { weight: 15, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
        size: fc.oneof(
          { weight: 10, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom(0, 1, 511, 513, 2 ** 33, 2 ** 40) },
        ),
      },
      { requiredKeys: ['name', 'type', 'data'] },
    )
    .filter((m) => fits(m.name, 100) && fits(m.linkname ?? '', 100) && fits(m.prefix ?? '', 155))
    .chain((m) =>
      // Links, directories and devices carry no data: data after such a header is read as the next header.
      fc
        .oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
        .map((keep): RawMember => {
          const noData = '123456'.includes(m.type) && !keep;
          return { ...m, data: Buffer.from(noData ? new Uint8Array(0) : m.data) };
        }),
    );
  const extension = fc.oneof(
    paxBodyArb.map((body): RawMember => ({ name: '././@PaxHeader', type: 'x', data: body })),
    paxBodyArb.map((body): RawMember => ({ name: 'pax_global_header', type: 'g', data: body })),
    fc
      .oneof(longText, name)
      .map((n): RawMember => ({ name: '././@LongLink', type: 'L', data: `${n}\u0000`, magic: 'gnu' })),
    fc
      .oneof(longText, linkname)
      .map((n): RawMember => ({ name: '././@LongLink', type: 'K', data: `${n}\u0000`, magic: 'gnu' })),
  );
  return fc.oneof({ weight: 5, arbitrary: plain }, { weight: 2, arbitrary: extension });
}

/** A header field edited in place, the header's checksum then fixed, so the edit gets past the checksum test. */
export interface HeaderEdit {
  readonly member: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export function headerEditArb(): fc.Arbitrary<HeaderEdit> {
  return fc.record({
    member: fc.nat(),
    offset: fc.oneof(fc.constantFrom(0, 100, 124, 136, 156, 157, 257, 263, 345), fc.nat(511)),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 12 }),
      fc
        .constantFrom(
          '77777777777\0',
          '\x80\0\0\0\0\0\0\0\0\x01\0\0',
          '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe',
          '0',
          '5',
          '2',
          '1',
          'x',
          'L',
          'ustar\u0000',
          '../',
          '/',
        )
        .map((s) => Buffer.from(s, 'latin1')),
    ),
  });
}

export function fixChecksum(buf: Uint8Array, at: number): void {
  const block = buf.subarray(at, at + 512);
  if (block.length < 512) return;
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  Buffer.from(block.buffer, block.byteOffset, 512).write(
    `${sum.toString(8).padStart(6, '0')}\u0000 `,
    148,
    'latin1',
  );
}

export interface TarCase {
  readonly bytes: Uint8Array;
}

/**
 * Tars whose members all use a few names, so that they interact: duplicates, files below files or symlinks,
 * symlinks to directories followed by members through them, hard links to earlier (or later) members, link chains
 * that climb out step by step. Most members are individually safe; the combinations are what is being tested.
 */
export function linkedTarArb(): fc.Arbitrary<TarCase> {
  const names = ['a', 'b', 'a/b', 'a/c', 'b/c', 'a/b/c', 'l', 'a/l', 'l/x', 'a/l/x', 'A', 'a/'];
  const targets = [
    'a',
    'b',
    'a/b',
    'c',
    '.',
    '..',
    '../a',
    '../..',
    'l',
    'l/..',
    'l/../..',
    'a/../b',
    './a',
    'a//b',
    '',
  ];
  const member = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant('0'),
        name: fc.constantFrom(...names),
        data: fc.uint8Array({ maxLength: 40 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constant('5'),
        name: fc.constantFrom(...names),
        data: fc.constant(new Uint8Array(0)),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant('2'),
        name: fc.constantFrom(...names),
        linkname: fc.constantFrom(...targets, ...names),
        data: fc.constant(new Uint8Array(0)),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constant('1'),
        name: fc.constantFrom(...names),
        linkname: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('a', 'b', './a', 'a/b') },
          { weight: 1, arbitrary: fc.constantFrom(...names, ...targets) },
        ),
        data: fc.constant(new Uint8Array(0)),
      }),
    },
  );
  return fc
    .record({
      members: fc.array(
        fc.tuple(member, fc.constantFrom('', './'), fc.constantFrom(0o644, 0o755, 0o4755, 0o000)),
        { minLength: 1, maxLength: 7 },
      ),
      end: fc.boolean(),
    })
    .map(({ members, end }) => {
      const parts = members.map(([m, prefix, mode]) =>
        rawMember({ ...m, name: prefix + m.name, mode, data: Buffer.from(m.data) }),
      );
      return { bytes: concatBytes([...parts, new Uint8Array(end ? 1024 : 0)]) };
    });
}

/** Tars from {@link memberArb}, sometimes edited or mutated afterwards (`mutationWeight` in 10). */
export function tarArb(scale: number, maxMutations: number, mutationWeight = 3): fc.Arbitrary<TarCase> {
  const layout: Layout = {
    headerSize: 512,
    fields: [
      { offset: 124, width: 12 },
      { offset: 148, width: 8 },
    ],
  };
  return fc
    .record({
      members: fc.array(memberArb(scale), { maxLength: 8 }),
      end: fc.constantFrom('zeros', 'none', 'one'),
      edits: fc.oneof(
        { weight: 10 - mutationWeight, arbitrary: fc.constant<HeaderEdit[]>([]) },
        { weight: mutationWeight, arbitrary: fc.array(headerEditArb(), { minLength: 1, maxLength: 2 }) },
      ),
      mutations: fc.oneof(
        { weight: 10 - mutationWeight, arbitrary: fc.constant<Mutation[]>([]) },
        { weight: mutationWeight, arbitrary: mutationArb(layout, maxMutations) },
      ),
      random: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3000 }) },
      ),
    })
    .map(({ members, end, edits, mutations, random }) => {
      if (random) return { bytes: random };
      const resolved = members.map((m, i): RawMember => {
        if (m.linkname !== PREVIOUS) return m;
        const before = members
          .slice(0, i)
          .reverse()
          .find(
            (p) => p.linkname !== PREVIOUS && '0\u00007'.includes(p.type ?? '0') && !p.name.endsWith('/'),
          );
        // The member's full name as the reader sees it (a POSIX ustar prefix is joined in).
        const full =
          before && (before.magic ?? 'ustar') === 'ustar' && before.prefix
            ? `${before.prefix}/${before.name}`
            : before?.name;
        return { ...m, linkname: full !== undefined && fits(full, 100) ? full : 'missing' };
      });
      const parts = resolved.map((m) => rawMember(m));
      const headerOffsets: number[] = [];
      let pos = 0;
      for (const p of parts) {
        headerOffsets.push(pos);
        pos += p.length;
      }
      const tail =
        end === 'zeros' ? new Uint8Array(1024) : end === 'one' ? new Uint8Array(512) : new Uint8Array(0);
      const buf = concatBytes([...parts, tail]);
      for (const e of edits) {
        if (headerOffsets.length === 0) break;
        const at = headerOffsets[e.member % headerOffsets.length]!;
        buf.set(e.bytes.subarray(0, 512 - e.offset), at + e.offset);
        fixChecksum(buf, at);
      }
      return { bytes: mutate(buf, mutations, layout) };
    });
}
