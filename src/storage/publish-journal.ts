/**
 * The publish journal: a small JSON object at the destination's top (`.notsotuf-published.json`, beside the lock,
 * outside what clients read) that records, for each snapshot version published, when it went live and which
 * files that repository state references. `--prune` needs both: storage modification times are not publish times
 * (rclone keeps the source file's), and old targets metadata is overwritten in repositories without consistent
 * snapshots. Pure parsing and updating here; publish.ts does the I/O.
 */

export const JOURNAL_KEY = '.notsotuf-published.json';
/** Far above any real journal; bounds what a damaged or hostile object can make us read. */
export const MAX_JOURNAL_BYTES = 16 << 20;

export interface JournalEntry {
  readonly snapshot: number;
  /** ISO time the timestamp naming this snapshot was uploaded. */
  readonly publishedAt: string;
  /** Keys this state references: its versioned snapshot/targets metadata and its target files. */
  readonly files: readonly string[];
}

function isEntry(v: unknown): v is JournalEntry {
  const e = v as Partial<JournalEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    Number.isSafeInteger(e.snapshot) &&
    (e.snapshot as number) >= 1 &&
    typeof e.publishedAt === 'string' &&
    !Number.isNaN(Date.parse(e.publishedAt)) &&
    Array.isArray(e.files) &&
    e.files.every((f) => typeof f === 'string')
  );
}

/**
 * Reads a journal. An unreadable one reads as empty: pruning then deletes nothing until the journal has covered
 * a whole grace period again, which is the safe direction.
 */
export function parseJournal(bytes: Buffer | undefined): JournalEntry[] {
  if (!bytes) return [];
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { format?: unknown; entries?: unknown };
    if (body.format !== 1 || !Array.isArray(body.entries)) return [];
    return body.entries.filter(isEntry);
  } catch {
    return [];
  }
}

export function serializeJournal(entries: readonly JournalEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => a.snapshot - b.snapshot);
  return Buffer.from(`${JSON.stringify({ format: 1, entries: sorted }, null, 1)}\n`);
}

/** The journal with `entry` recorded; an entry already there for that snapshot keeps its first publish time. */
export function recordPublish(entries: readonly JournalEntry[], entry: JournalEntry): JournalEntry[] {
  if (entries.some((e) => e.snapshot === entry.snapshot)) return [...entries];
  return [...entries, entry];
}
