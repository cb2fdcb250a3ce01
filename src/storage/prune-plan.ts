/**
 * What `publish --prune` may delete. Pure: decided from the destination's listing and its publish journal,
 * unit-tested as data.
 *
 * A client that read `timestamp.json` just before a publish goes on to fetch the snapshot, targets metadata and
 * files that timestamp named, and a CDN may serve that old timestamp for a while longer. So a file is kept while
 * any repository state that references it could still be in use: the current one, and every state superseded less
 * than the grace period ago. Which files each state referenced, and when it was replaced, comes from the publish
 * journal (publish-journal.ts). Where the journal cannot prove a file unused for the whole grace period (a
 * publish made by another tool, a gap in the journal), the file stays.
 */
import type { JournalEntry } from './publish-journal.js';

export interface PrunePlan {
  /** Keys to delete: `targets/…` and superseded `metadata/N.{targets,snapshot}.json`, sorted. */
  readonly deletions: readonly string[];
  /** Snapshot versions whose journal entries are still needed (the rest can be dropped from the journal). */
  readonly keptSnapshots: readonly number[];
  /** Why nothing could be deleted, when that is the case for a reason other than "nothing is unused". */
  readonly blockedBy?: string;
}

export interface PruneInput {
  /** Every key at the destination under `metadata/` and `targets/`. */
  readonly remoteKeys: readonly string[];
  /** Keys of the local repository: never deleted (a later publish would upload them again). */
  readonly localKeys: ReadonlySet<string>;
  readonly journal: readonly JournalEntry[];
  /** The snapshot version the destination's timestamp names now. */
  readonly currentSnapshot: number;
  readonly now: Date;
  readonly graceMs: number;
}

const PRUNABLE_METADATA = /^metadata\/[1-9]\d*\.(targets|snapshot)\.json$/;

/** The journal entries a client may still be using, newest first; undefined when the journal has a gap. */
function statesInUse(
  journal: readonly JournalEntry[],
  current: number,
  cutoff: number,
): JournalEntry[] | undefined {
  const bySnapshot = new Map(journal.map((e) => [e.snapshot, e]));
  const inUse: JournalEntry[] = [];
  for (let v = current; v >= 1; v--) {
    const entry = bySnapshot.get(v);
    if (!entry) return undefined;
    inUse.push(entry);
    // This state was already current at the cutoff: every older one was replaced before it.
    if (Date.parse(entry.publishedAt) <= cutoff) return inUse;
  }
  // Back to the first snapshot ever: nothing older exists.
  return inUse;
}

export function planPrune(input: PruneInput): PrunePlan {
  const cutoff = input.now.getTime() - input.graceMs;
  const inUse = statesInUse(input.journal, input.currentSnapshot, cutoff);
  if (!inUse) {
    return {
      deletions: [],
      keptSnapshots: input.journal.map((e) => e.snapshot).sort((a, b) => a - b),
      blockedBy:
        'the publish journal does not cover every repository state of the grace period (a publish by another tool, or the first publish with pruning); files become prunable once the grace period has passed after this publish',
    };
  }
  const referenced = new Set(inUse.flatMap((e) => e.files));
  const deletions = input.remoteKeys
    .filter((key) => key.startsWith('targets/') || PRUNABLE_METADATA.test(key))
    .filter((key) => !referenced.has(key) && !input.localKeys.has(key))
    .sort();
  return { deletions, keptSnapshots: inUse.map((e) => e.snapshot).sort((a, b) => a - b) };
}

/** Parses `--grace`: a whole number followed by s, m, h or d (`7d`, `36h`). */
export function parseGrace(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
