import { parseTargetCustom } from './custom-metadata.js';
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

/** The highest release of `app` that has an archive, if any. */
export function latestRelease(
  releases: ReadonlyMap<string, readonly Release[]>,
  app: string,
): Release | undefined {
  const list = releases.get(app) ?? [];
  for (let i = list.length - 1; i >= 0; i--) if (list[i]?.archive) return list[i];
  return undefined;
}
