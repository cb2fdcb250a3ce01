import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Work directories commands make inside a repository directory (patch diffing, pulls). */
const WORK_DIR = /^\.notsotuf-(work|pull)-/;
/** Temp files of atomic writes (`.<name>.<random>.tmp`, see util/durable-fs.ts). */
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes what a killed command left in a repository directory: its work directories and the temp files of
 * writes it never renamed into place. Call only while holding the repository lock — then no live command owns
 * any of them. Returns the paths removed.
 */
export async function sweepLeftovers(repoDir: string): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (dir: string, match: (name: string) => boolean) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!match(name)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  };
  await sweep(repoDir, (n) => WORK_DIR.test(n));
  await sweep(join(repoDir, 'metadata'), (n) => TEMP_FILE.test(n));
  await sweep(join(repoDir, 'targets'), (n) => TEMP_FILE.test(n));
  return removed;
}
