/** Fuzzing of the tar header decoders (src/archive/tar-header.ts) and the tar reader (src/archive/tar-reader.ts). */
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  decodeGnuLongName,
  decodeHeader,
  decodeNumber,
  decodePaxRecords,
} from '../../../src/archive/tar-header.js';
import { readTarEntries, readTarEntryData, type TarEntry } from '../../../src/archive/tar-reader.js';
import { rawMember } from '../../archive/raw-tar.js';
import {
  assertMemoryBounded,
  concatBytes,
  countOutcome,
  type FuzzArea,
  type Outcome,
  outcomeOf,
} from './common.js';
import { fixChecksum, headerEditArb, memberArb, tarArb } from './tar-arbitraries.js';

function checkEntries(entries: readonly TarEntry[], fileSize: number): void {
  let last = -1;
  for (const e of entries) {
    assert.equal(e.headerOffset % 512, 0);
    assert.equal(e.dataOffset % 512, 0);
    assert.ok(e.headerOffset < e.dataOffset && e.headerOffset > last, 'entries advance through the file');
    last = e.dataOffset - 1;
    assert.ok(Number.isSafeInteger(e.size) && e.size >= 0);
    assert.ok(e.dataOffset + e.size <= fileSize, 'data lies inside the file');
    assert.ok(Number.isSafeInteger(e.mode) && e.mode >= 0);
    assert.ok(Number.isFinite(e.mtime));
    assert.equal(e.typeflag.length, 1);
    assert.equal(typeof e.path, 'string');
  }
}

/**
 * Writes `bytes` as a tar file in `dir` and reads all its entries (`each` is called on every entry as it comes):
 * the entries, or the ARCHIVE_INVALID that refused the file.
 */
async function readTar(
  dir: string,
  bytes: Uint8Array,
  each?: (fh: FileHandle, e: TarEntry, path: string) => Promise<void>,
): Promise<Outcome<TarEntry[]>> {
  const path = join(dir, 'a.tar');
  await writeFile(path, bytes);
  const fh = await open(path, 'r');
  try {
    return await outcomeOf(
      async () => {
        const entries: TarEntry[] = [];
        for await (const e of readTarEntries(fh, { size: bytes.length, path })) {
          entries.push(e);
          await each?.(fh, e, path);
        }
        return entries;
      },
      { codes: ['ARCHIVE_INVALID'] },
    );
  } finally {
    await fh.close();
  }
}

export const tarProperties: FuzzArea = ({ ws, scale }) => [
  {
    name: 'tar-header: decoders of header blocks, numbers, PAX records and GNU names',
    testRuns: 300,
    weight: 1,
    property: fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 512, maxLength: 512 }),
        fc.tuple(memberArb(scale), fc.array(headerEditArb(), { maxLength: 2 })).map(([m, edits]) => {
          const block = Uint8Array.from(rawMember(m).subarray(0, 512));
          for (const e of edits) block.set(e.bytes.subarray(0, 512 - e.offset), e.offset);
          if (edits.length > 0) fixChecksum(block, 0);
          return block;
        }),
        fc.uint8Array({ maxLength: 600 }),
      ),
      fc.oneof(
        fc.uint8Array({ maxLength: 12 }),
        fc.string({ maxLength: 12 }).map((s) => Buffer.from(s, 'latin1')),
      ),
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc
          .array(
            fc.tuple(
              fc.nat(40),
              fc.constantFrom('path', 'size', 'mtime', 'linkpath', 'x'),
              fc.string({ maxLength: 20 }),
            ),
            { maxLength: 4 },
          )
          .map((rs) => Buffer.from(rs.map(([n, k, v]) => `${n} ${k}=${v}\n`).join(''))),
      ),
      (block, field, pax) => {
        const h = decodeHeader(block);
        countOutcome(h.ok ? 'header ok' : 'header refused');
        if (h.ok) {
          assert.equal(block.length, 512);
          assert.ok(Number.isSafeInteger(h.value.size) && h.value.size >= 0);
          assert.ok(Number.isSafeInteger(h.value.mode) && h.value.mode >= 0);
          assert.ok(Number.isSafeInteger(h.value.mtime));
          assert.equal(h.value.typeflag.length, 1);
        } else assert.ok(h.reason.length > 0);
        const n = decodeNumber(field);
        if (n !== undefined) assert.ok(Number.isSafeInteger(n));
        const p = decodePaxRecords(pax);
        if (p.ok) {
          if (p.value.size !== undefined) assert.ok(Number.isSafeInteger(p.value.size) && p.value.size >= 0);
          if (p.value.mtime !== undefined) assert.ok(Number.isFinite(p.value.mtime));
          assert.ok(Object.keys(p.value).every((k) => ['path', 'linkpath', 'size', 'mtime'].includes(k)));
        } else assert.ok(p.reason.length > 0);
        const g = decodeGnuLongName(pax);
        if (g.ok) assert.ok(!g.value.includes('\u0000'));
      },
    ),
  },
  {
    name: 'tar-reader: directories and links carry no data, as TarEntry documents',
    testRuns: 60,
    weight: 0.5,
    property: fc.asyncProperty(
      fc.oneof(
        tarArb(scale, 2, 1),
        // Data after a directory or link header (old-style directories included: typeflag NUL, name `…/`),
        // which Python's tarfile reads as the next header.
        fc
          .tuple(
            fc.stringMatching(/^[a-z]{1,8}$/),
            fc.constantFrom('\u0000', '5', '2', '1'),
            fc.integer({ min: 1, max: 2000 }),
          )
          .map(([name, type, size]) => ({
            bytes: concatBytes([
              rawMember({ name: `${name}/`, type, size, linkname: 'x' }),
              new Uint8Array(Math.ceil(size / 512) * 512),
              rawMember({ name: 'next', data: 'n' }),
              new Uint8Array(1024),
            ]),
          })),
      ),
      async ({ bytes }) =>
        ws.run('tar-nodata', async (d) => {
          const r = await readTar(d, bytes);
          if (!r.ok) return;
          for (const e of r.value) {
            if (e.type === 'dir' || e.type === 'symlink' || e.type === 'hardlink') {
              assert.equal(
                e.size,
                0,
                `${e.type} ${JSON.stringify(e.path)} (typeflag ${JSON.stringify(e.typeflag)}) carries data`,
              );
            }
          }
        }),
    ),
  },
  {
    name: 'tar-reader: random and mutated tars give consistent entries and data, or ARCHIVE_INVALID',
    testRuns: 80,
    weight: 1,
    property: fc.asyncProperty(
      tarArb(scale, 4),
      fc.integer({ min: 1, max: 2048 }),
      async ({ bytes }, chunkSize) =>
        ws.run('tar-read', async (d) => {
          const r = await readTar(d, bytes, async (fh, e, path) => {
            let got = 0;
            for await (const chunk of readTarEntryData(fh, e, { chunkSize, path })) {
              assert.ok(chunk.length > 0 && chunk.length <= chunkSize);
              got += chunk.length;
            }
            assert.equal(got, e.size, 'the data has the size the headers say');
          });
          if (r.ok) checkEntries(r.value, bytes.length);
          assertMemoryBounded();
        }),
    ),
  },
];
