/**
 * Whether two directory trees hold the same release: same paths, types, modes (permission bits), link texts and
 * file contents. Used when a version directory already exists: an identical one is reused, any other is replaced.
 */
import { join } from 'node:path';
import { aborted, isAbortError } from '../../core/aborted.js';
import { hashFile } from '../../util/hash-file.js';
import type { Entry } from '../in-place-plan.js';
import { scanTree } from '../tree-scan.js';

function shape(entry: Entry): string {
  const mode = (entry.mode & 0o777).toString(8);
  if (entry.type === 'symlink') return `${entry.path} link ${entry.linkTarget}`;
  return entry.type === 'dir' ? `${entry.path} dir ${mode}` : `${entry.path} file ${mode} ${entry.size}`;
}

/**
 * Compares the trees below `a` and `b` (not the roots' own modes). Cheap checks first: contents are hashed only
 * when every path, type, mode and size already match.
 *
 * @throws NotsotufError INSTALL_FAILED (a root missing), IO_ERROR, ABORTED.
 */
export async function sameTree(a: string, b: string, signal?: AbortSignal): Promise<boolean> {
  const options = { signal, special: 'as-file', missingHint: 'The directory to compare is gone.' } as const;
  const [left, right] = await Promise.all([scanTree(a, options), scanTree(b, options)]);
  if (left.length !== right.length || left.some((entry, i) => shape(entry) !== shape(right[i] as Entry))) {
    return false;
  }
  for (const entry of left) {
    if (entry.type !== 'file') continue;
    const rel = entry.path.split('/');
    const [ha, hb] = await Promise.all([
      hashFile(join(a, ...rel), signal),
      hashFile(join(b, ...rel), signal),
    ]).catch((err: unknown) => {
      // hashFile's stream pipeline rejects with a plain AbortError once the signal is aborted.
      if (isAbortError(err)) throw aborted('The install was aborted.', { cause: signal?.reason ?? err });
      throw err;
    });
    if (ha.sha256 !== hb.sha256) return false;
  }
  return true;
}
