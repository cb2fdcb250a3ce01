import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BLOCK_SIZE,
  encodeMemberHeader,
  encodePaxRecords,
  encodeUstarHeader,
  endOfArchive,
  MAX_OCTAL_11,
  RECORD_SIZE,
  splitUstarName,
  tarNameFor,
} from '../../src/archive/index.js';

function field(block: Buffer, offset: number, width: number): string {
  const raw = block.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? width : end).toString('utf8');
}

function checksumOk(block: Buffer): boolean {
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of copy) sum += b;
  return Number.parseInt(field(block, 148, 8).trim(), 8) === sum;
}

describe('tar-format', () => {
  test('ustar header fields, magic and checksum', () => {
    const h = encodeMemberHeader({
      name: './bin/run.sh',
      type: 'file',
      mode: 0o755,
      size: 90,
      mtime: 1704110400,
    });
    assert.equal(h.length, BLOCK_SIZE);
    assert.equal(field(h, 0, 100), './bin/run.sh');
    assert.equal(h.subarray(100, 108).toString('latin1'), '0000755\0');
    assert.equal(h.subarray(108, 116).toString('latin1'), '0000000\0');
    assert.equal(h.subarray(124, 136).toString('latin1'), '00000000132\0');
    assert.equal(h.subarray(136, 148).toString('latin1'), `${(1704110400).toString(8)}\0`);
    assert.equal(h.subarray(154, 156).toString('latin1'), '\0 ');
    assert.equal(String.fromCharCode(h[156]!), '0');
    assert.equal(h.subarray(257, 265).toString('latin1'), 'ustar\x0000');
    assert.equal(field(h, 265, 32), 'root');
    assert.equal(field(h, 297, 32), 'root');
    assert.ok(checksumOk(h));
  });

  test('directories and symlinks', () => {
    assert.equal(tarNameFor('.', 'dir'), './');
    assert.equal(tarNameFor('./a/b', 'dir'), './a/b/');
    assert.equal(tarNameFor('./a/b', 'file'), './a/b');
    const d = encodeMemberHeader({ name: './a/', type: 'dir', mode: 0o755, size: 0, mtime: 0 });
    assert.equal(String.fromCharCode(d[156]!), '5');
    const l = encodeMemberHeader({
      name: './l',
      type: 'symlink',
      mode: 0o777,
      size: 0,
      mtime: 0,
      linkname: 'bin/x',
    });
    assert.equal(l.length, BLOCK_SIZE);
    assert.equal(String.fromCharCode(l[156]!), '2');
    assert.equal(field(l, 157, 100), 'bin/x');
  });

  test('long ASCII names are split into prefix and name when possible (shortest prefix)', () => {
    const name = `./${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(30)}`;
    assert.deepEqual(splitUstarName(name), [`./${'a'.repeat(60)}`, `${'b'.repeat(60)}/${'c'.repeat(30)}`]);
    const h = encodeMemberHeader({ name, type: 'file', mode: 0o644, size: 1, mtime: 0 });
    assert.equal(h.length, BLOCK_SIZE, 'no PAX header needed');
    assert.equal(`${field(h, 345, 155)}/${field(h, 0, 100)}`, name);
    assert.equal(splitUstarName(`./${'x'.repeat(120)}`), undefined);
    assert.equal(splitUstarName(`${'p'.repeat(160)}/x`), undefined, 'prefix longer than 155');
    assert.deepEqual(splitUstarName('short'), ['', 'short']);
  });

  test('PAX header for unsplittable, non-ASCII names and link targets', () => {
    const long = `./${'x'.repeat(120)}`;
    const h = encodeMemberHeader({ name: long, type: 'file', mode: 0o644, size: 1, mtime: 5 });
    assert.equal(h.length, 3 * BLOCK_SIZE);
    assert.equal(String.fromCharCode(h[156]!), 'x');
    assert.equal(field(h, 0, 100), '././@PaxHeader');
    assert.ok(checksumOk(h.subarray(0, BLOCK_SIZE)));
    const bodySize = Number.parseInt(field(h, 124, 12), 8);
    assert.equal(
      h.subarray(BLOCK_SIZE, BLOCK_SIZE + bodySize).toString('utf8'),
      `${bodySize} path=${long}\n`,
    );
    assert.ok(checksumOk(h.subarray(2 * BLOCK_SIZE)));

    const nonAscii = encodeMemberHeader({
      name: './héllo',
      type: 'symlink',
      mode: 0o777,
      size: 0,
      mtime: 0,
      linkname: 'wörld',
    });
    const body = nonAscii.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE).toString('utf8');
    assert.match(body, /^\d+ path=\.\/héllo\n\d+ linkpath=wörld\n\0/);
    const ustar = nonAscii.subarray(2 * BLOCK_SIZE);
    assert.equal(field(ustar, 0, 100), './héllo');
    assert.equal(field(ustar, 157, 100), 'wörld');
  });

  test('PAX record lengths count themselves, also across a digit boundary', () => {
    for (let len = 1; len < 1100; len++) {
      const value = 'v'.repeat(len);
      const rec = encodePaxRecords([['path', value]]).toString('utf8');
      const declared = Number.parseInt(rec.split(' ')[0]!, 10);
      assert.equal(Buffer.byteLength(rec), declared, `value length ${len}`);
    }
    assert.equal(encodePaxRecords([['path', 'é']]).toString('utf8'), '11 path=é\n');
  });

  test('sizes beyond the octal field go to a PAX size record', () => {
    const size = MAX_OCTAL_11 + 1;
    const h = encodeMemberHeader({ name: './huge', type: 'file', mode: 0o644, size, mtime: 0 });
    assert.match(
      h.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE).toString('utf8'),
      new RegExp(`^\\d+ size=${size}\\n`),
    );
    assert.equal(field(h.subarray(2 * BLOCK_SIZE), 124, 12), '00000000000');
    assert.throws(() =>
      encodeUstarHeader({ name: 'x', prefix: '', linkname: '', mode: 0, size: -1, mtime: 0, typeflag: '0' }),
    );
  });

  test('end of archive: two zero blocks, padded to a whole record', () => {
    assert.equal(endOfArchive(0).length, RECORD_SIZE);
    assert.equal(endOfArchive(BLOCK_SIZE).length, RECORD_SIZE - BLOCK_SIZE);
    assert.equal(endOfArchive(RECORD_SIZE - 2 * BLOCK_SIZE).length, 2 * BLOCK_SIZE);
    assert.equal(endOfArchive(RECORD_SIZE - BLOCK_SIZE).length, RECORD_SIZE + BLOCK_SIZE);
    for (const written of [0, 512, 9216, 9728, 10240, 50176]) {
      const end = endOfArchive(written);
      assert.ok(end.length >= 2 * BLOCK_SIZE && (written + end.length) % RECORD_SIZE === 0);
      assert.ok(end.every((b) => b === 0));
    }
  });
});
