/**
 * After a publish: records the new repository state in the destination's publish journal and, with `--prune`,
 * deletes what no state in use references (see prune-plan.ts for the rule).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REVALIDATE } from '../core/http-headers.js';
import type { ObjectStore } from './object-store.js';
import { planPrune } from './prune-plan.js';
import {
  JOURNAL_KEY,
  type JournalEntry,
  MAX_JOURNAL_BYTES,
  parseJournal,
  recordPublish,
  serializeJournal,
} from './publish-journal.js';

/** A week: far beyond how long a client takes from reading timestamp.json to downloading what it names. */
export const DEFAULT_PRUNE_GRACE_MS = 7 * 86_400_000;

export interface PruneOptions {
  /** How long a replaced repository state stays whole (default DEFAULT_PRUNE_GRACE_MS). */
  readonly graceMs?: number;
  /** The clock, for tests. */
  readonly now?: Date;
}

export interface JournalUpdate {
  readonly entry: JournalEntry;
  /** The destination's `metadata/` and `targets/` keys as listed before the upload. */
  readonly remoteKeys: readonly string[];
  readonly localKeys: ReadonlySet<string>;
  readonly dryRun: boolean;
  readonly prune?: PruneOptions;
}

async function putBytes(store: ObjectStore, key: string, bytes: Buffer): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'notsotuf-put-'));
  try {
    const path = join(dir, 'object');
    await writeFile(path, bytes);
    await store.putFile(key, path, {
      contentType: 'application/json',
      cacheControl: REVALIDATE,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function updateJournalAndPrune(
  store: ObjectStore,
  update: JournalUpdate,
): Promise<{ deleted: string[]; blockedBy?: string }> {
  const before = parseJournal(await store.getBytes(JOURNAL_KEY, MAX_JOURNAL_BYTES));
  let journal = recordPublish(before, update.entry);
  let deleted: string[] = [];
  let blockedBy: string | undefined;
  if (update.prune) {
    const plan = planPrune({
      remoteKeys: update.remoteKeys,
      localKeys: update.localKeys,
      journal,
      currentSnapshot: update.entry.snapshot,
      now: update.prune.now ?? new Date(),
      graceMs: update.prune.graceMs ?? DEFAULT_PRUNE_GRACE_MS,
    });
    deleted = [...plan.deletions];
    blockedBy = plan.blockedBy;
    if (!update.dryRun) {
      // Deleted before the journal forgets the states that named them: a publish killed in between prunes again.
      for (const key of plan.deletions) await store.delete(key);
    }
    if (!plan.blockedBy) journal = journal.filter((e) => plan.keptSnapshots.includes(e.snapshot));
  }
  const changed = serializeJournal(journal).compare(serializeJournal(before)) !== 0;
  if (!update.dryRun && changed) await putBytes(store, JOURNAL_KEY, serializeJournal(journal));
  return { deleted, ...(blockedBy ? { blockedBy } : {}) };
}
