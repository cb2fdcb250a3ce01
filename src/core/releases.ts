import { parseTargetCustom } from './custom-metadata.js';
import { inLine, type ReleasePolicy } from './release-policy.js';
import { parseTargetName } from './target-name.js';
import { compareVersions, type Version } from './version.js';

/** A target as the trusted targets metadata lists it. */
export interface TargetEntry {
  readonly name: string;
  readonly length: number;
  readonly hashes: Readonly<Record<string, string>>;
  readonly custom?: unknown;
}

/** One file of a release (its archive or its patch from the previous release). */
export interface ReleaseFile {
  readonly name: string;
  readonly length: number;
  readonly sha256: string | undefined;
  /** Size and sha256 of the uncompressed tar (the patch result for patches; the tar inside for archives). */
  readonly tarSize?: number;
  readonly tarHash?: string;
  readonly patchCodec?: string;
}

/** A release of one app: a version with its archive and/or patch. */
export interface Release {
  readonly app: string;
  readonly version: Version;
  readonly required: boolean;
  /** The publisher's own metadata (release notes …), `null` when none. */
  readonly user: unknown;
  readonly archive?: ReleaseFile;
  readonly patch?: ReleaseFile;
  /** Rollout, halt, recall, maintenance line, minimum version (signed with the archive's entry); absent: none. */
  readonly policy?: ReleasePolicy;
}

/**
 * Groups target entries into releases per app, each list sorted by version (ascending). Targets whose name is
 * not `<app>-<version><suffix>` are ignored (a repository may hold other files).
 */
export function groupReleases(targets: readonly TargetEntry[]): Map<string, Release[]> {
  const byKey = new Map<
    string,
    { app: string; version: Version; archive?: TargetEntry; patch?: TargetEntry }
  >();
  for (const target of targets) {
    const parsed = parseTargetName(target.name);
    if (!parsed) continue;
    const key = `${parsed.app}\0${parsed.version.normalized}`;
    const slot = byKey.get(key) ?? { app: parsed.app, version: parsed.version };
    slot[parsed.kind] = target;
    byKey.set(key, slot);
  }
  const out = new Map<string, Release[]>();
  for (const slot of byKey.values()) {
    const archiveCustom = slot.archive
      ? parseTargetCustom(slot.archive.custom, slot.archive.name)
      : undefined;
    const release: Release = {
      app: slot.app,
      version: slot.version,
      required: archiveCustom?.required ?? false,
      user: archiveCustom?.user ?? null,
      ...(archiveCustom?.policy ? { policy: archiveCustom.policy } : {}),
      ...(slot.archive ? { archive: releaseFile(slot.archive) } : {}),
      ...(slot.patch ? { patch: releaseFile(slot.patch) } : {}),
    };
    const list = out.get(slot.app) ?? [];
    list.push(release);
    out.set(slot.app, list);
  }
  for (const list of out.values()) list.sort((a, b) => compareVersions(a.version, b.version));
  return out;
}

function releaseFile(target: TargetEntry): ReleaseFile {
  const custom = parseTargetCustom(target.custom, target.name);
  return {
    name: target.name,
    length: target.length,
    sha256: target.hashes['sha256'],
    ...(custom.tarSize === undefined ? {} : { tarSize: custom.tarSize }),
    ...(custom.tarHash === undefined ? {} : { tarHash: custom.tarHash }),
    ...(custom.patchCodec === undefined ? {} : { patchCodec: custom.patchCodec }),
  };
}

/**
 * The highest release of `app` that has an archive, if any: on the main line (maintenance releases left out), or,
 * with `line`, the highest in that line below `below` (the base of a maintenance release's patch).
 */
export function latestRelease(
  releases: ReadonlyMap<string, readonly Release[]>,
  app: string,
  options: { line?: string; below?: Version } = {},
): Release | undefined {
  const list = releases.get(app) ?? [];
  for (let i = list.length - 1; i >= 0; i--) {
    const release = list[i];
    if (!release?.archive) continue;
    if (options.below && compareVersions(release.version, options.below) >= 0) continue;
    if (
      options.line === undefined ? release.policy?.line !== undefined : !inLine(release.version, options.line)
    )
      continue;
    return release;
  }
  return undefined;
}
