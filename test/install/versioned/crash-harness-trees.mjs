/**
 * Release trees for the crash-injection harness (crash-harness.mjs), in plain JavaScript so that
 * scripts/stress.mjs runs them with plain `node`: three releases, a byte-level snapshot of a tree, a seeded PRNG.
 *
 * The new release has many small files in nested directories, one larger file, an executable entry, symlinks
 * (to a file, to a directory, dangling) and unusual modes (0600, 0664, 0750, a read-only 0555 directory), so a
 * version directory that is incomplete, mixed or has lost a mode or a link text shows up in its snapshot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Installed before each run (removed by the new install's cleanup step, so kills land in step 5's deletes too). */
export const BASE = '1.0.0';
/** The version each run starts from ("old"). */
export const OLD = '1.1.0';
/** The version each run installs ("new"). */
export const NEW = '2.0.0';
/** The entry point's target inside every release. */
export const ENTRY = 'bin/app';

/** The app: prints its own version and the one the entry point says it started. */
export function appScript(version) {
  return `#!/bin/sh\necho "app ${version} selected=$NOTSOTUF_VERSION"\n`;
}

/** Exactly what the app of `version` prints when the entry point starts it. */
export function expectedOutput(version) {
  return `app ${version} selected=${version}\n`;
}

/**
 * The entries of a release: `{ path, type: 'dir', mode }`, `{ path, type: 'file', content, mode }` or
 * `{ path, type: 'link', target }`. `small` small files in share/dN/sM/, one file of `bigBytes` random bytes.
 */
export function releaseEntries(version, { small, bigBytes }) {
  const entries = [
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: ENTRY, type: 'file', content: appScript(version), mode: 0o755 },
    { path: 'bin/app-link', type: 'link', target: 'app' },
    { path: `only-in-${version}.txt`, type: 'file', content: `${version}\n`, mode: 0o644 },
  ];
  if (bigBytes > 0) {
    entries.push({ path: 'lib', type: 'dir', mode: 0o755 });
    entries.push({ path: 'lib/big.bin', type: 'file', content: randomBytes(bigBytes), mode: 0o644 });
  }
  if (small > 0) {
    entries.push(
      { path: 'share', type: 'dir', mode: 0o755 },
      { path: 'share/current', type: 'link', target: 'd0' },
      { path: 'share/dangling', type: 'link', target: 'no-such-file' },
      { path: 'etc', type: 'dir', mode: 0o750 },
      { path: 'etc/key.pem', type: 'file', content: `key of ${version}\n`, mode: 0o600 },
      { path: 'read-only', type: 'dir', mode: 0o555 },
      { path: 'read-only/file.txt', type: 'file', content: `read only ${version}\n`, mode: 0o444 },
    );
  }
  const perDir = 5;
  const dirs = new Set();
  for (let i = 0; i < small; i++) {
    const d = `share/d${Math.floor(i / (perDir * 4))}`;
    const s = `${d}/s${Math.floor(i / perDir) % 4}`;
    for (const dir of [d, s]) {
      if (!dirs.has(dir)) entries.push({ path: dir, type: 'dir', mode: 0o755 });
      dirs.add(dir);
    }
    const mode = i % 7 === 3 ? 0o664 : 0o644;
    entries.push({ path: `${s}/f${i}.txt`, type: 'file', content: `${version} file ${i}\n`, mode });
  }
  return entries;
}

/** Creates `entries` under `root`; directory modes last, deepest first, so read-only directories can be filled. */
export async function buildTree(root, entries) {
  await mkdir(root, { recursive: true });
  for (const entry of entries) {
    const abs = join(root, entry.path);
    await mkdir(dirname(abs), { recursive: true });
    if (entry.type === 'dir') await mkdir(abs, { recursive: true });
    else if (entry.type === 'link') await symlink(entry.target, abs);
    else {
      await writeFile(abs, entry.content);
      await chmod(abs, entry.mode);
    }
  }
  const dirs = entries.filter((e) => e.type === 'dir').sort((a, b) => b.path.length - a.path.length);
  for (const dir of dirs) await chmod(join(root, dir.path), dir.mode);
}

/**
 * Relative path → `dir <mode>`, `file <mode> <sha256>` or `link <text>` for everything below `root` (links not
 * followed): two trees with equal snapshots are byte-identical, with the same types, modes and link texts.
 */
export async function snapshot(root) {
  const out = {};
  async function walk(abs, rel) {
    for (const name of (await readdir(abs)).sort()) {
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const info = await lstat(childAbs);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) out[childRel] = `link ${await readlink(childAbs)}`;
      else if (info.isDirectory()) {
        out[childRel] = `dir ${mode}`;
        await walk(childAbs, childRel);
      } else if (info.isFile()) {
        const hash = createHash('sha256')
          .update(await readFile(childAbs))
          .digest('hex');
        out[childRel] = `file ${mode} ${hash}`;
      } else out[childRel] = `special ${mode}`;
    }
  }
  await walk(root, '');
  return out;
}

/** The differences between two snapshots, at most `max` of them, as readable lines. */
export function diffSnapshots(expected, actual, max = 5) {
  const lines = [];
  for (const path of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    if (expected[path] !== actual[path]) {
      lines.push(`${path}: expected ${expected[path] ?? 'nothing'}, found ${actual[path] ?? 'nothing'}`);
    }
  }
  return lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more`] : lines;
}

/** Removes a tree, also one with read-only directories when not running as root. */
export async function forceRemove(dir) {
  if (process.getuid?.() !== 0) {
    async function writable(abs) {
      const info = await lstat(abs).catch(() => undefined);
      if (!info?.isDirectory()) return;
      await chmod(abs, 0o700).catch(() => undefined);
      for (const name of await readdir(abs).catch(() => [])) await writable(join(abs, name));
    }
    await writable(dir);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** mulberry32: a small, fast, seeded PRNG; returns floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
