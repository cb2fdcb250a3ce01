/** Shared helpers for the install tests: temp dirs, trees built from a spec, and full before/after snapshots. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
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
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh temp dir; `cleanup` removes it. */
export async function tempDir(
  prefix = 'notsotuf-install-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const cleanup = async () => {
    // Tests make read-only directories; without write permission a non-root user could not empty them.
    execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' });
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, cleanup };
}

/** A tree spec: `path → content` (a file 0644), or a file/dir/link with its mode or link text. */
export type TreeSpec = Record<
  string,
  string | { file: string; mode?: number } | { dir: true; mode?: number } | { link: string }
>;

/**
 * Creates the spec's entries under `root` (which may exist), parents first. Directory modes are set last,
 * deepest first, so a read-only directory can still be filled.
 */
export async function buildTree(root: string, spec: TreeSpec): Promise<void> {
  await mkdir(root, { recursive: true });
  const dirModes: [string, number][] = [];
  for (const [rel, value] of Object.entries(spec).sort(([a], [b]) => a.localeCompare(b))) {
    const abs = join(root, rel);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof value === 'string') {
      await writeFile(abs, value);
      await chmod(abs, 0o644);
    } else if ('file' in value) {
      await writeFile(abs, value.file);
      await chmod(abs, value.mode ?? 0o644);
    } else if ('dir' in value) {
      await mkdir(abs, { recursive: true });
      dirModes.push([abs, value.mode ?? 0o755]);
    } else {
      await symlink(value.link, abs);
    }
  }
  for (const [abs, mode] of dirModes.reverse()) await chmod(abs, mode);
}

/** Relative path → `dir 755`, `file 644 <sha256>` or `link <text>`, for every entry below `root` (links not followed). */
export type Snapshot = Record<string, string>;

export async function snapshot(root: string, skipRootName?: (name: string) => boolean): Promise<Snapshot> {
  const out: Snapshot = {};
  async function walk(abs: string, rel: string): Promise<void> {
    for (const name of (await readdir(abs)).sort()) {
      if (rel === '' && skipRootName?.(name)) continue;
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const info = await lstat(childAbs);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) out[childRel] = `link ${await readlink(childAbs)}`;
      else if (info.isDirectory()) {
        out[childRel] = `dir ${mode}`;
        await walk(childAbs, childRel);
      } else {
        const hash = createHash('sha256')
          .update(await readFile(childAbs))
          .digest('hex');
        out[childRel] = `file ${mode} ${hash.slice(0, 16)}`;
      }
    }
  }
  await walk(root, '');
  return out;
}

/** Paths below `root` that look like the installer's backup or temp files. */
export async function leftovers(root: string): Promise<string[]> {
  return Object.keys(await snapshot(root)).filter((p) => /notsotuf/.test(p));
}

export const isRoot = process.getuid?.() === 0;

/**
 * Makes `dir` refuse new entries and renames, also for root where possible: chmod 0o555 for other users, the
 * immutable attribute (chattr +i) for root, which ignores permissions. Synchronous, so an `onStep` callback can
 * use it before the step runs. Returns the undo function, or the reason why it cannot be done here.
 */
export function makeUnwritable(dir: string): (() => void) | string {
  if (!isRoot) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
  } catch {
    return 'running as root, which ignores directory permissions, and chattr +i is not available here';
  }
  return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
}
