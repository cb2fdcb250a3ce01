/**
 * Fuzzing of tar extraction (src/archive/extract-tar.ts) with hostile, mutated and link-laden tars: nothing may be
 * written outside the target directory, and a refused archive leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { extractTar } from '../../../src/archive/extract-tar.js';
import { assertDirHolds, assertMemoryBounded, type FuzzArea, outcomeOf } from './common.js';
import { linkedTarArb, tarArb } from './tar-arbitraries.js';

/**
 * Where `target`, read from a symlink in `fromDir`, leads when the kernel follows it (symlinks on the way
 * included): a path inside `root`, `'escape'` when any step leaves `root` (extract-tar.ts documents that a `..`
 * above the root is refused even if later segments come back), or `'stop'` when resolution ends on a missing
 * directory or a loop (nothing can be reached through it).
 */
async function locate(
  root: string,
  fromDir: string,
  target: string,
  depth: number,
): Promise<string | 'escape' | 'stop'> {
  if (depth > 40) return 'stop';
  if (target.startsWith('/')) return 'escape';
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  let cur = fromDir;
  const parts = target.split('/');
  for (const [i, part] of parts.entries()) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      cur = dirname(cur);
      if (!inside(cur)) return 'escape';
      continue;
    }
    const next = join(cur, part);
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(next);
    } catch {
      // Missing: the last component would be created right here (inside); an inner one stops resolution.
      return i === parts.length - 1 || parts.slice(i + 1).every((p) => p === '' || p === '.') ? next : 'stop';
    }
    if (st.isSymbolicLink()) {
      const via = await locate(root, dirname(next), await readlink(next), depth + 1);
      if (via === 'escape' || via === 'stop') return via;
      cur = via;
    } else cur = next;
  }
  return cur;
}

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

export const extractProperties: FuzzArea = ({ ws, scale }) => [
  {
    name: 'extract-tar: hostile and mutated tars never write outside the target directory',
    testRuns: 60,
    weight: 0.5,
    property: fc.asyncProperty(
      fc.oneof(tarArb(scale, 2, 1), linkedTarArb()),
      fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(20_000) }),
      async ({ bytes }, maxTarSize) =>
        ws.run('extract', async (d) => {
          const box = join(d, 'box');
          const outside = join(d, 'outside');
          await mkdir(box);
          await mkdir(outside);
          await writeFile(join(outside, 'keep.txt'), 'sentinel');
          const tarPath = join(d, 'archive.tar');
          await writeFile(tarPath, bytes);
          const dest = join(box, 'dest');
          const r = await outcomeOf(
            () => extractTar(tarPath, dest, maxTarSize === undefined ? {} : { maxTarSize }),
            {
              codes: ['ARCHIVE_INVALID', 'ARCHIVE_UNSAFE', 'IO_ERROR'],
            },
          );
          if (!r.ok && r.error.code === 'IO_ERROR') {
            // Only a file-system refusal (a name too long, say) may surface as IO_ERROR.
            assert.equal(
              typeof (r.error.cause as { code?: unknown } | undefined)?.code,
              'string',
              `IO_ERROR without an errno: ${r.error.message}`,
            );
          }
          await assertDirHolds(d, ['archive.tar', 'box', 'outside'], 'nothing beside the box');
          await assertDirHolds(outside, ['keep.txt']);
          assert.equal(await readFile(join(outside, 'keep.txt'), 'utf8'), 'sentinel');
          await assertDirHolds(box, r.ok ? ['dest'] : [], 'on failure the target is removed');
          if (r.ok) {
            if (maxTarSize !== undefined) assert.ok(bytes.length <= maxTarSize);
            const root = resolve(dest);
            let files = 0;
            let symlinks = 0;
            const inodes = new Map<number, { nlink: number; names: number; size: number }>();
            for (const p of await walk(root)) {
              const st = await lstat(p);
              assert.ok(
                st.isFile() || st.isDirectory() || st.isSymbolicLink(),
                `${p} is a file, directory or symlink`,
              );
              assert.equal(st.mode & 0o7000, 0, `${relative(root, p)} has no setuid, setgid or sticky bit`);
              if (st.isSymbolicLink()) {
                symlinks++;
                const target = await readlink(p);
                const to = await locate(root, dirname(p), target, 0);
                assert.notEqual(
                  to,
                  'escape',
                  `${relative(root, p)} -> ${target} stays inside the target directory`,
                );
              } else if (st.isFile()) {
                files++;
                const seen = inodes.get(st.ino) ?? { nlink: st.nlink, names: 0, size: st.size };
                seen.names++;
                inodes.set(st.ino, seen);
              }
            }
            for (const [, i] of inodes)
              assert.equal(i.names, i.nlink, 'every hard link of a file is inside the target');
            assert.equal(files, r.value.files + r.value.hardlinks);
            assert.equal(symlinks, r.value.symlinks);
            assert.equal(
              [...inodes.values()].reduce((n, i) => n + i.size, 0),
              r.value.bytes,
            );
          }
          assertMemoryBounded();
        }),
    ),
  },
];
