/**
 * Which files a publish uploads, in which order, and which it refuses to touch. Pure: decided from the local
 * repository's files and the destination's listing, unit-tested as data.
 *
 * The order makes a half-done publish invisible to clients, who start every update at `timestamp.json`:
 * 1. targets (archives and patches), which nothing references yet;
 * 2. versioned metadata: `N.root.json`, then `N.targets.json`, then `N.snapshot.json` (each references the ones
 *    before it);
 * 3. unversioned metadata other than the timestamp (`root.json`, `targets.json`, `snapshot.json`: tufup's layout
 *    and first-time clients read these);
 * 4. `timestamp.json`, last: the switch.
 * Targets and versioned metadata never change once published (clients and CDNs cache them forever), so one that
 * exists at the destination with other content is a conflict, not an update.
 */
import { NotsotufError } from '../core/errors.js';
import { digestsEqual } from '../util/hash-file.js';

export interface LocalFile {
  /** `metadata/<name>` or `targets/<name>`. */
  readonly key: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly md5: string;
}

export interface RemoteFile {
  readonly key: string;
  readonly size: number;
  readonly sha256?: string;
  readonly md5?: string;
}

export type Phase = 'targets' | 'versioned-metadata' | 'metadata' | 'timestamp';
export const PHASES: readonly Phase[] = ['targets', 'versioned-metadata', 'metadata', 'timestamp'];

export interface PublishPlan {
  /** Files to upload, in upload order. */
  readonly uploads: readonly (LocalFile & { readonly phase: Phase })[];
  /** Keys already at the destination with the same content. */
  readonly unchanged: readonly string[];
  /** Keys at the destination that the local repository does not have (left alone; see --prune). */
  readonly remoteOnly: readonly string[];
}

const VERSIONED = /^metadata\/([1-9]\d*)\.(root|targets|snapshot)\.json$/;
const ROLE_ORDER = { root: 0, targets: 1, snapshot: 2 } as const;

export function phaseOf(key: string): Phase | undefined {
  if (key.startsWith('targets/')) return 'targets';
  if (VERSIONED.test(key)) return 'versioned-metadata';
  if (key === 'metadata/timestamp.json') return 'timestamp';
  if (/^metadata\/[^/]+\.json$/.test(key)) return 'metadata';
  return undefined;
}

/** Same content: equal size and an equal hash the destination reported (no known hash: not the same). */
function sameContent(local: LocalFile, remote: RemoteFile): boolean {
  if (local.size !== remote.size) return false;
  if (remote.sha256 !== undefined) return digestsEqual(remote.sha256, local.sha256);
  if (remote.md5 !== undefined) return digestsEqual(remote.md5, local.md5);
  return false;
}

function hashKnown(remote: RemoteFile): boolean {
  return remote.sha256 !== undefined || remote.md5 !== undefined;
}

function sortKey(file: { key: string; phase: Phase }): [number, number, number, string] {
  const m = VERSIONED.exec(file.key);
  return [
    PHASES.indexOf(file.phase),
    m ? ROLE_ORDER[m[2] as keyof typeof ROLE_ORDER] : 0,
    m ? Number(m[1]) : 0,
    file.key,
  ];
}

function compare(a: [number, number, number, string], b: [number, number, number, string]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

/** Keys in the order a client may see them appear: what `pull` follows when it writes metadata locally. */
export function inUploadOrder(keys: readonly string[]): string[] {
  const known = keys.flatMap((key) => {
    const phase = phaseOf(key);
    return phase ? [{ key, phase }] : [];
  });
  return known
    .map((f) => ({ f, k: sortKey(f) }))
    .sort((a, b) => compare(a.k, b.k))
    .map(({ f }) => f.key);
}

/**
 * Plans a publish.
 * @throws NotsotufError PUBLISH_CONFLICT when an immutable file exists at the destination with other content.
 */
export function planPublish(local: readonly LocalFile[], remote: readonly RemoteFile[]): PublishPlan {
  const remoteByKey = new Map(remote.map((r) => [r.key, r]));
  const uploads: (LocalFile & { phase: Phase })[] = [];
  const unchanged: string[] = [];
  const conflicts: string[] = [];
  for (const file of local) {
    const phase = phaseOf(file.key);
    if (!phase) continue;
    const there = remoteByKey.get(file.key);
    const immutable = phase === 'targets' || phase === 'versioned-metadata';
    if (there && sameContent(file, there)) unchanged.push(file.key);
    else if (there && immutable && (there.size !== file.size || hashKnown(there))) conflicts.push(file.key);
    // Also an immutable file whose content the destination cannot tell (no hash): uploading the same bytes
    // again is harmless, and it is how a publish that was interrupted mid-file completes.
    else uploads.push({ ...file, phase });
  }
  if (conflicts.length > 0) {
    throw new NotsotufError(
      'PUBLISH_CONFLICT',
      `The destination already has ${conflicts.length} published file(s) with other content: ${conflicts
        .slice(0, 3)
        .join(', ')}${conflicts.length > 3 ? ', …' : ''}.`,
      {
        hint: 'Published targets and versioned metadata never change. Start from the published state (`notsotuf pull --from <destination>` into an empty directory) and add the release there, or publish to an empty destination.',
      },
    );
  }
  const localKeys = new Set(local.map((f) => f.key));
  return {
    uploads: uploads.sort((a, b) => compare(sortKey(a), sortKey(b))),
    unchanged: unchanged.sort(),
    remoteOnly: remote
      .map((r) => r.key)
      .filter((k) => !localKeys.has(k) && phaseOf(k) !== undefined)
      .sort(),
  };
}
