import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { wrapForeignError } from '../core/foreign-error.js';
import { moveFile, writeFileAtomic } from '../util/durable-fs.js';

type Step =
  | { kind: 'write'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'move'; from: string; path: string };

/** What a step overwrote (and where a moved file came from), so a failed commit can put it back. */
type Undo = { path: string; previous: Buffer | undefined; mode?: number; movedFrom?: string };

/**
 * A set of file changes applied in the order they were added, all or nothing.
 *
 * Order matters to clients reading the repository while it changes: new target files first, then versioned
 * metadata, then the unversioned names, `timestamp.json` last. If any step fails, the steps already done are
 * undone (files created are removed, files overwritten get their old bytes back), so a failed command leaves
 * the repository as it was. Removals run only after every write succeeded; they are the point of no return.
 */
export class Changeset {
  private readonly steps: Step[] = [];
  private readonly removals: string[] = [];

  /** Writes `data` to `path` (atomically, temp file + rename). */
  write(path: string, data: Uint8Array | string, mode?: number): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.steps.push({ kind: 'write', path, data: bytes, ...(mode === undefined ? {} : { mode }) });
    return this;
  }

  /** Moves a finished temp file (same file system) to `path`. */
  move(from: string, path: string): this {
    this.steps.push({ kind: 'move', from, path });
    return this;
  }

  /** Removes `path` after all writes succeeded. */
  remove(path: string): this {
    this.removals.push(path);
    return this;
  }

  get isEmpty(): boolean {
    return this.steps.length === 0 && this.removals.length === 0;
  }

  /** Paths this changeset writes, in order (for logs and tests). */
  get writtenPaths(): string[] {
    return this.steps.map((s) => s.path);
  }

  async commit(): Promise<{ removeFailures: string[] }> {
    const undo: Undo[] = [];
    const createdDirs: string[] = [];
    try {
      for (const step of this.steps) {
        const previous = await readFile(step.path).catch(() => undefined);
        // An overwritten file gets its old mode back too: a private key restored as 0644 would be readable by all.
        const mode = previous && (await stat(step.path).catch(() => undefined))?.mode;
        const made = await mkdir(dirname(step.path), { recursive: true });
        if (made) createdDirs.push(made);
        if (step.kind === 'write') await writeFileAtomic(step.path, step.data, step.mode);
        else await moveFile(step.from, step.path);
        undo.push({
          path: step.path,
          previous,
          ...(mode ? { mode: mode & 0o777 } : {}),
          ...(step.kind === 'move' ? { movedFrom: step.from } : {}),
        });
      }
    } catch (err) {
      for (const { path, previous, mode, movedFrom } of undo.reverse()) {
        // A moved file goes back where it came from (e.g. the staging area), so the change can be retried.
        if (movedFrom) await moveFile(path, movedFrom).catch(() => undefined);
        if (previous === undefined) await rm(path, { force: true }).catch(() => undefined);
        else await writeFileAtomic(path, previous, mode).catch(() => undefined);
      }
      for (const made of createdDirs.reverse())
        await rm(made, { recursive: true, force: true }).catch(() => undefined);
      throw wrapForeignError(err, 'Writing the repository', {
        ioMessage: 'Writing the repository failed; it was left as it was.',
      });
    }
    // Past the point of no return: a file that cannot be removed only leaves clutter, never a broken repo.
    const removeFailures: string[] = [];
    for (const path of this.removals) {
      await rm(path, { force: true }).catch(() => removeFailures.push(path));
    }
    return { removeFailures };
  }
}
