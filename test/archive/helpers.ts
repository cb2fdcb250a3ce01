/** Shared helpers for the archive tests: temp dirs, a sample bundle, and readers that use tools other than ours. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/tufup-repo-v0.10/', import.meta.url));

/** A fresh temp dir, removed by the returned cleanup function. */
export async function tempDir(
  prefix = 'notsotuf-archive-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const LONG_SPLITTABLE = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(24)}.txt`; // 150 chars, fits prefix+name
export const LONG_NAME = `${'n'.repeat(146)}.txt`; // 150 chars in one component: needs a PAX path
export const NON_ASCII = 'héllo wörld 日本語.txt';
export const BIG_SIZE = 3 * 1024 * 1024;

/** Knobs that must NOT change the archive: they vary what a checkout on another machine would look like. */
export interface BundleVariant {
  fileMode: number;
  execMode: number;
  dirMode: number;
  mtime: Date;
  /** Create entries in reverse order, so directory order on disk differs too. */
  reverse: boolean;
}

export const VARIANT_A: BundleVariant = {
  fileMode: 0o644,
  execMode: 0o755,
  dirMode: 0o755,
  mtime: new Date('2021-05-06T07:08:09Z'),
  reverse: false,
};
export const VARIANT_B: BundleVariant = {
  fileMode: 0o664,
  execMode: 0o775,
  dirMode: 0o775,
  mtime: new Date('2023-11-12T13:14:15Z'),
  reverse: true,
};

/** Files of the sample bundle (path -> contents), plus its links and empty dirs. */
export function sampleContents(big: Buffer): Map<string, Buffer> {
  return new Map([
    ['README.txt', Buffer.from('sample bundle\n')],
    ['bin/run.sh', Buffer.from('#!/bin/sh\necho hi\n')],
    ['a/b/c/deep.txt', Buffer.from('deep\n')],
    [LONG_SPLITTABLE, Buffer.from('long splittable\n')],
    [`long/${LONG_NAME}`, Buffer.from('long name\n')],
    [NON_ASCII, Buffer.from('non-ascii\n')],
    ['a-b.txt', Buffer.from('sorts before a/ byte-wise, after it per directory\n')],
    ['empty.txt', Buffer.alloc(0)],
    ['lib/big.bin', big],
  ]);
}
export const SAMPLE_LINKS: ReadonlyArray<[string, string]> = [
  ['run', 'bin/run.sh'],
  ['a/b/up', '../../bin/run.sh'],
];
export const SAMPLE_EMPTY_DIRS = ['empty-dir'];

/** 3 MB of pseudo-random bytes (random, so compression has real work to do). */
export function bigPayload(): Buffer {
  return randomBytes(BIG_SIZE);
}

/** Writes the sample bundle into `root` the way `variant` says. */
export async function makeBundle(root: string, big: Buffer, variant: BundleVariant): Promise<void> {
  const files = [...sampleContents(big)];
  if (variant.reverse) files.reverse();
  await mkdir(root, { recursive: true });
  for (const d of SAMPLE_EMPTY_DIRS) await mkdir(join(root, d), { recursive: true });
  for (const [path, data] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), data);
    await chmod(join(root, path), path.endsWith('.sh') ? variant.execMode : variant.fileMode);
  }
  for (const [path, target] of SAMPLE_LINKS) await symlink(target, join(root, path));
  await setTree(root, variant);
}

async function setTree(dir: string, variant: BundleVariant): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await setTree(p, variant);
    if (!e.isSymbolicLink()) await utimes(p, variant.mtime, variant.mtime);
  }
  await chmod(dir, variant.dirMode);
  await utimes(dir, variant.mtime, variant.mtime);
}

/** A tar member as Python's tarfile (what tufup uses) reads it. */
export interface PyMember {
  name: string;
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  size: number;
  linkname: string;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

const PY_LIST = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        kind = 'dir' if m.isdir() else 'file' if m.isreg() else 'symlink' if m.issym() else 'other'
        out.append(dict(name=m.name, type=kind, mode=m.mode, size=m.size, linkname=m.linkname, mtime=m.mtime,
                        uid=m.uid, gid=m.gid, uname=m.uname, gname=m.gname))
sys.stdout.write(json.dumps(out))
`;

/** Members of a (gzip'd or plain) tar, read by python3's tarfile. */
export function pythonMembers(archive: string): PyMember[] {
  return JSON.parse(execFileSync('python3', ['-c', PY_LIST, archive], { encoding: 'utf8' })) as PyMember[];
}

/** `tar -tv` lines from GNU tar, in UTC so the dates do not depend on the machine. */
export function gnuTarListing(archive: string): string[] {
  const out = execFileSync('tar', ['-tvf', archive], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return out.split('\n').filter((l) => l !== '');
}

/** What a tree holds: path -> type, mode, contents hash or link target. Paths relative, with `/`. */
export async function describeTree(root: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const names = (await readdir(join(root, rel))).sort();
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, path);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) out.set(path, `symlink -> ${await readlink(abs)}`);
    else if (st.isDirectory()) {
      out.set(path, 'dir');
      for (const [k, v] of await describeTree(root, path)) out.set(k, v);
    } else {
      const hash = createHash('sha256')
        .update(await readFile(abs))
        .digest('hex');
      out.set(path, `file ${(st.mode & 0o111) !== 0 ? 'exec' : 'plain'} ${hash}`);
    }
  }
  return out;
}

/** SHA-256 hex of a buffer. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
