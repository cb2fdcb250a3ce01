/**
 * Security regression tests for extractTar: hostile archives built by hand. Each must be refused with its code,
 * write nothing outside the staging directory, and leave no staging directory behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractTar } from '../../src/archive/index.js';
import { type ErrorCode, isNotsotufError } from '../../src/core/errors.js';
import { tempDir } from './helpers.js';
import {
  dir,
  file,
  gnuLongLink,
  gnuLongName,
  hardlink,
  pax,
  type RawMember,
  rawMember,
  rawTar,
  symlink,
} from './raw-tar.js';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('notsotuf-extract-evil-'));
});
after(() => cleanup());

/**
 * Extracts `tar` into `<case>/box/dest` and expects `code`. The case dir is the sentinel: afterwards it must hold
 * only the tar and the empty `box`, so nothing landed beside or above the staging dir.
 */
async function expectRefused(
  tar: Buffer,
  code: ErrorCode,
  options: { maxTarSize?: number; reason?: RegExp; entry?: string } = {},
): Promise<void> {
  const base = join(root, `case-${n++}`);
  await mkdir(join(base, 'box'), { recursive: true });
  const tarPath = join(base, 'archive.tar');
  await writeFile(tarPath, tar);
  const dest = join(base, 'box', 'dest');
  await assert.rejects(
    extractTar(tarPath, dest, options.maxTarSize === undefined ? {} : { maxTarSize: options.maxTarSize }),
    (err) => {
      assert.ok(isNotsotufError(err, code), `expected ${code}, got ${String(err)}`);
      assert.ok(err.hint, 'has a hint');
      if (options.reason) assert.match(String(err.details['reason']), options.reason);
      if (options.entry !== undefined) assert.equal(err.details['entry'], options.entry);
      return true;
    },
  );
  assert.deepEqual((await readdir(base)).sort(), ['archive.tar', 'box']);
  assert.deepEqual(await readdir(join(base, 'box')), [], 'staging dir removed, nothing beside it');
}

const unsafe = (members: RawMember[], reason?: RegExp) =>
  expectRefused(rawTar(members), 'ARCHIVE_UNSAFE', reason ? { reason } : {});

describe('extractTar refuses paths that leave the staging directory', () => {
  test('file ../evil', () => unsafe([file('../evil')], /"\.\."/));
  test('file ./../evil', () => unsafe([file('./../evil')], /"\.\."/));
  test('file a/../../evil (climbs out half-way)', () => unsafe([dir('a/'), file('a/../../evil')], /"\.\."/));
  test('file /etc/evil (absolute)', async () => {
    await unsafe([file('/etc/evil')], /absolute/);
    assert.equal(existsSync('/etc/evil'), false);
  });
  test('absolute path into the sentinel dir', async () => {
    const target = join(root, 'absolute-evil');
    await unsafe([file(target)], /absolute/);
    assert.equal(existsSync(target), false);
  });
  test('file C:\\evil (Windows drive)', () => unsafe([file('C:\\evil')], /absolute/));
  test('file a\\..\\..\\evil (backslashes)', () => unsafe([file('a\\..\\..\\evil')], /backslash/));
  test('file with an alternate data stream name', () => unsafe([file('a.txt:evil')], /colon/));
  test('ustar prefix that makes ../evil', () => unsafe([file('evil', 'x', { prefix: '..' })], /"\.\."/));
  test('PAX path override to ../x', () => unsafe([pax({ path: '../x' }), file('innocent.txt')], /"\.\."/));
  test('PAX path with a NUL', () => unsafe([pax({ path: 'a\u0000/../../x' }), file('ok')], /NUL/));
  test('GNU long name to ../x', () =>
    unsafe([gnuLongName(`../${'x'.repeat(120)}`), file('short')], /"\.\."/));
  test('the root entry as a file', () => unsafe([file('./')], /root/));
});

describe('extractTar refuses unsafe symlinks', () => {
  test('symlink link -> ../../outside', () => unsafe([symlink('link', '../../outside')], /outside/));
  test('symlink link -> /etc (absolute)', () => unsafe([symlink('link', '/etc')], /absolute/));
  test('symlink a/link -> ../.. (climbs out from a subdirectory)', () =>
    unsafe([dir('a/'), symlink('a/link', '../..')], /outside/));
  test('PAX linkpath to ../../x', () =>
    unsafe([pax({ linkpath: '../../x' }), symlink('link', 'inside')], /outside/));
  test('GNU long link to /etc/passwd', () =>
    unsafe([gnuLongLink('/etc/passwd'), symlink('link', 'inside')], /absolute/));
  test('escape through another link (a -> ., b -> a/../x)', () =>
    unsafe([symlink('a', '.'), symlink('b', 'a/../x')], /outside/));
  test('escape through a link listed later (b -> a/../x, then a -> .)', () =>
    unsafe([symlink('b', 'a/../x'), symlink('a', '.')], /outside/));
  test('write through a symlink to an inside dir (link -> sub, then link/file)', () =>
    unsafe([dir('sub/'), symlink('link', 'sub'), file('link/file')], /symlink/));
  test('write below a regular file (f, then f/x)', () => unsafe([file('f'), file('f/x')], /file/));
});

describe('extractTar refuses unsafe hard links', () => {
  test('hardlink to /etc/passwd', () => unsafe([hardlink('h', '/etc/passwd')], /absolute/));
  test('hardlink to ../x', () => unsafe([hardlink('h', '../x')], /"\.\."/));
  test('hardlink to a path not yet extracted', () =>
    unsafe([hardlink('h', 'later'), file('later')], /not a regular file extracted earlier/));
  test('hardlink to a directory', () => unsafe([dir('d/'), hardlink('h', 'd')], /not a regular file/));
  test('hardlink to a symlink', () =>
    unsafe([file('t'), symlink('s', 't'), hardlink('h', 's')], /not a regular file/));
});

describe('extractTar refuses special files and unknown types', () => {
  test('character device', () => unsafe([{ name: 'tty', type: '3' }], /character device/));
  test('block device', () => unsafe([{ name: 'sda', type: '4' }], /block device/));
  test('FIFO', () => unsafe([{ name: 'pipe', type: '6' }], /FIFO/));
  test('GNU sparse file', () => unsafe([{ name: 'sparse', type: 'S', data: 'x' }], /unsupported type/));
  test('unknown typeflag', () => unsafe([{ name: 'odd', type: 'Z' }], /unsupported type/));
});

describe('extractTar refuses duplicate paths', () => {
  test('the same file twice', () => unsafe([file('a'), file('./a')], /duplicates/));
  test('a file replacing a symlink', () =>
    unsafe([file('t'), symlink('x', 't'), file('x', 'payload')], /duplicates/));
  test('a symlink replacing a file', () => unsafe([file('x'), symlink('x', 't')], /duplicates/));
  test('the same directory twice', () => unsafe([dir('d/'), dir('d')], /duplicates/));
  test('a file where a directory was created for earlier entries', () =>
    unsafe([file('d/x'), file('d')], /replace a directory/));
  test('a symlink where a directory was created for earlier entries', () =>
    unsafe([file('d/x'), symlink('d', '.')], /replace a directory/));
});

describe('extractTar refuses damaged and oversized archives', () => {
  const good = rawTar([dir('./'), file('./a.txt', 'hello')]);

  test('tar larger than maxTarSize (the signed tar_size)', () =>
    expectRefused(good, 'ARCHIVE_UNSAFE', { maxTarSize: good.length - 1, reason: /^too large$/ }));
  test('truncated member data', () =>
    expectRefused(
      Buffer.concat([rawMember(file('a.txt', 'x'.repeat(2000))).subarray(0, 1200)]),
      'ARCHIVE_INVALID',
      { reason: /truncated/ },
    ));
  test('truncated header', () => expectRefused(good.subarray(0, 700), 'ARCHIVE_INVALID'));
  test('bad checksum', () =>
    expectRefused(rawTar([file('a.txt', 'x', { badChecksum: true })]), 'ARCHIVE_INVALID', {
      reason: /checksum/,
    }));
  test('bad checksum on a later member, after a good one was extracted', () =>
    expectRefused(rawTar([file('a.txt'), file('b.txt', 'x', { badChecksum: true })]), 'ARCHIVE_INVALID'));
  test('size field that is not octal', () => {
    const tar = rawTar([file('a.txt')]);
    tar.write('9', 124, 'latin1');
    // Keep the checksum right so that only the size field is wrong.
    tar.write('        ', 148, 'latin1');
    let sum = 0;
    for (const b of tar.subarray(0, 512)) sum += b;
    tar.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
    return expectRefused(tar, 'ARCHIVE_INVALID', { reason: /size/ });
  });
  test('PAX header with a malformed record', () =>
    expectRefused(rawTar([{ name: 'pax', type: 'x', data: '99 path=x\n' }, file('a')]), 'ARCHIVE_INVALID', {
      reason: /PAX/,
    }));
  test('extension header with no member after it', () =>
    expectRefused(rawTar([file('a'), pax({ path: 'b' })]), 'ARCHIVE_INVALID'));
  test('an unsafe entry after safe ones removes what was extracted', () =>
    unsafe([dir('./'), dir('bin/'), file('bin/run.sh', '#!/bin/sh\n'), file('../evil')], /"\.\."/));
});
