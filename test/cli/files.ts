/** Real files for the CLI tests: temp dirs, small bundles, the tufup fixture, and tree snapshots. */
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const TUFUP_FIXTURE = fileURLToPath(new URL('../fixtures/tufup-repo-v0.10/', import.meta.url));

const made: string[] = [];
after(async () => {
  if (process.env['NOTSOTUF_TEST_KEEP']) return;
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test file ends. */
export async function tempDir(prefix = 'notsotuf-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A small app bundle: an executable, a data file and a relative symlink that stays inside. */
export async function makeBundle(dir: string, version: string): Promise<string> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'app'), `#!/bin/sh\necho "demo_app ${version}"\n`, { mode: 0o755 });
  await writeFile(join(dir, 'VERSION'), `${version}\n`);
  await writeFile(join(dir, 'data.txt'), `data of ${version}\n`.repeat(50));
  return dir;
}

/** A copy of the tufup 0.10 fixture repository (symlinks kept as they are). */
export async function copyTufupFixture(): Promise<string> {
  const dir = join(await tempDir('notsotuf-cli-tufup-'), 'repo');
  await cp(TUFUP_FIXTURE, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Every file, directory and symlink below `root` → content hash (or kind), for before/after comparisons. */
export async function treeSnapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    const full = join(root, rel);
    const st = await lstat(full);
    if (st.isSymbolicLink()) out[rel] = `link:${await readlink(full)}`;
    else if (st.isDirectory()) {
      if (rel) out[rel] = 'dir';
      for (const name of (await readdir(full)).sort()) await walk(rel ? join(rel, name) : name);
    } else
      out[rel] = createHash('sha256')
        .update(await readFile(full))
        .digest('hex');
  }
  await walk('');
  return out;
}

export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** `signed.version` and `signed.expires` of a metadata file. */
export async function metadataSigned(
  repoDir: string,
  name: string,
): Promise<{ version: number; expires: string } & Record<string, unknown>> {
  const md = await readJson<{ signed: { version: number; expires: string } & Record<string, unknown> }>(
    join(repoDir, 'metadata', name),
  );
  return md.signed;
}
