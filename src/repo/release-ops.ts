import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metadata, Targets } from '@tufjs/models';
import { TargetFile } from '@tufjs/models';
import { type ArchiveResult, createArchive } from '../archive/index.js';
import { buildArchiveCustom } from '../core/custom-metadata.js';
import { NotsotufError } from '../core/errors.js';
import {
  checkReleasePolicy,
  defaultLine,
  inLine,
  type ReleasePolicy,
  type RolloutWave,
} from '../core/release-policy.js';
import { groupReleases, latestRelease, type Release } from '../core/releases.js';
import { formatTargetName, platformAppName } from '../core/target-name.js';
import { compareVersions, parseVersion, type Version } from '../core/version.js';
import { defaultPatchCodec } from '../patch/registry.js';
import { tempPathFor } from '../util/durable-fs.js';
import { type Draft, nextTargets } from './draft.js';
import type { PublishContext } from './publish.js';
import { makeReleasePatch } from './release-patch.js';
import { checkTufupRelease, tufupGapWarnings, tufupPolicyWarnings } from './tufup-clients.js';

export interface AddReleaseOptions {
  /** The app bundle directory to archive. */
  readonly bundleDir: string;
  /** PEP 440 or semver (normalised to PEP 440). Must be higher than the app's latest release. */
  readonly version: string;
  /** Clients below this version must install it before any later one. */
  readonly required?: boolean;
  /** The publisher's own metadata for the release (release notes …), JSON with integer numbers only. */
  readonly userMeta?: unknown;
  /** `<os>-<arch>`: publishes under `<app>-<os>-<arch>` with its own release chain. */
  readonly platform?: string;
  /** Member mtime of the archive (default: SOURCE_DATE_EPOCH, else 2000-01-01). */
  readonly mtime?: number | Date;
  /** Publish without a patch from the previous release. */
  readonly skipPatch?: boolean;
  /**
   * A maintenance release on an older line (1.4.3 after 2.0.0): allowed below the latest release, offered only to
   * installs on its line, patched from the newest release of that line.
   */
  readonly maintenance?: boolean;
  /** The line of a maintenance release, a version prefix; default its major.minor. */
  readonly line?: string;
  /** Start as a staged rollout: the waves (see release-policy.ts); default offered to every install at once. */
  readonly rollout?: readonly RolloutWave[];
  /** Installs below this version must update (they are told the update is critical). */
  readonly minimumVersion?: string;
  /** Patch codec; default: the notsotuf codec, or `bsdiff4` for repositories without consistent snapshots (tufup's). */
  readonly patchCodec?: string;
  /**
   * No app with tufup's client reads this repository any more: allows patch codecs other than bsdiff4 in a
   * repository with tufup's layout (refused otherwise with `TUFUP_INCOMPATIBLE`).
   */
  readonly noTufupClients?: boolean;
  readonly signal?: AbortSignal;
  /** Progress of the long steps: archiving the bundle, then diffing against the previous release. */
  readonly onProgress?: (progress: { phase: 'archive' | 'patch'; done: number; total: number }) => void;
}

export interface AddedRelease {
  readonly app: string;
  readonly version: string;
  readonly archive: { name: string; length: number; sha256: string; tarSize: number; tarSha256: string };
  /** The patch from the previous release, when one was made. */
  readonly patch?: { name: string; length: number; codec: string; from: string };
  /** What this release means for apps with tufup's client, when it is less than intended (see tufup-clients.ts). */
  readonly warnings: readonly string[];
}

/** Target entries of the current targets metadata, in the shape the release logic reads. */
export function targetEntries(targets: Metadata<Targets>) {
  return Object.values(targets.signed.targets).map((t) => ({
    name: t.path,
    length: t.length,
    hashes: t.hashes,
    custom: t.unrecognizedFields['custom'],
  }));
}

function appFor(ctx: PublishContext, platform: string | undefined): string {
  const app = ctx.config.config.app_name;
  return platform ? platformAppName(app, platform) : app;
}

function releasesOf(ctx: PublishContext, app: string): Release[] {
  return groupReleases(targetEntries(ctx.state.targets)).get(app) ?? [];
}

/**
 * Builds the draft for a new release: validates the version against the app's releases, archives the bundle
 * reproducibly into a temp file in `targets/`, and adds it to a new targets version.
 */
export async function draftAddRelease(
  ctx: PublishContext,
  options: AddReleaseOptions,
): Promise<{ draft: Draft; added: AddedRelease }> {
  const plan = planRelease(ctx, options);
  // Checked before the (possibly long) archiving step, as is the user metadata.
  const warnings = tufupReleaseWarnings(ctx, options, plan);
  const customProbe = buildArchiveCustom({
    user: options.userMeta ?? null,
    required: options.required ?? false,
  });
  const targetsDir = ctx.state.layout.targetsDir;
  // A targets/ directory made here goes again if the release fails: a failed command leaves no trace.
  const createdDir = await mkdir(targetsDir, { recursive: true });
  const tempPath = tempPathFor(join(targetsDir, plan.name));
  try {
    const { archive, patch } = await archiveAndPatch(ctx, options, plan, tempPath);
    const custom = buildArchiveCustom({
      user: customProbe.user,
      required: options.required ?? false,
      tarSize: archive.tarSize,
      tarHash: archive.tarSha256,
      policy: plan.policy,
    });
    const target = new TargetFile({
      path: plan.name,
      length: archive.size,
      hashes: { sha256: archive.sha256 },
      unrecognizedFields: { custom: custom as never },
    });
    const targets = nextTargets(ctx.state.targets, ctx.config.config.expiration_days.targets, ctx.now, {
      add: patch ? [target, patch.target] : [target],
    });
    return {
      draft: {
        description: `release add ${plan.app} ${plan.version.normalized}`,
        targets,
        newTargetFiles: [
          { name: plan.name, sha256: archive.sha256, tempPath },
          ...(patch ? [patch.file] : []),
        ],
        removedTargets: [],
      },
      added: addedRelease(plan, archive, patch, warnings),
    };
  } catch (err) {
    await rm(tempPath, { force: true });
    if (createdDir) await rmdir(createdDir).catch(() => undefined);
    throw err;
  }
}

/** What the checks decide about a new release, before anything is archived. */
interface ReleasePlan {
  readonly app: string;
  readonly version: Version;
  /** The archive's target name. */
  readonly name: string;
  /** The line of a maintenance release; undefined on the main line. */
  readonly line: string | undefined;
  readonly policy: ReleasePolicy;
  /** The release the patch is made from (the newest below, in the line of a maintenance release). */
  readonly previous: Release | undefined;
  readonly codec: string;
}

/** @throws NotsotufError RELEASE_EXISTS, VERSION_NOT_NEWER, VERSION_INVALID, INVALID_ARGUMENT. */
function planRelease(ctx: PublishContext, options: AddReleaseOptions): ReleasePlan {
  const app = appFor(ctx, options.platform);
  const version = parseVersion(options.version);
  const releases = releasesOf(ctx, app);
  const same = releases.find((r) => compareVersions(r.version, version) === 0);
  if (same) {
    throw new NotsotufError('RELEASE_EXISTS', `${app} ${same.version.normalized} is already released.`, {
      hint: 'Pick a higher version, or remove that release first with notsotuf release remove.',
      details: { app, version: version.normalized },
    });
  }
  const line = maintenanceLine(app, version, releases, options);
  const policy = checkReleasePolicy({
    ...(options.rollout ? { rollout: options.rollout } : {}),
    ...(line ? { line } : {}),
    ...(options.minimumVersion ? { minimumVersion: options.minimumVersion } : {}),
  });
  const name = formatTargetName(app, version, 'archive');
  const previous = latestRelease(new Map([[app, releases]]), app, line ? { line, below: version } : {});
  const codec = options.patchCodec ?? defaultPatchCodec(ctx.state.layout.consistentSnapshot);
  return { app, version, name, line, policy, previous, codec };
}

/** What the release means for apps with tufup's client (see tufup-clients.ts); throws when it would break them. */
function tufupReleaseWarnings(ctx: PublishContext, options: AddReleaseOptions, plan: ReleasePlan): string[] {
  const { app, version, previous } = plan;
  const warnings = checkTufupRelease({
    tufupLayout: !ctx.state.layout.consistentSnapshot,
    noTufupClients: options.noTufupClients ?? false,
    app,
    version: version.normalized,
    ...(previous ? { previous: previous.version.normalized } : {}),
    patch: !options.skipPatch,
    codec: plan.codec,
    maintenance: plan.line !== undefined,
  });
  if (options.rollout || options.minimumVersion) {
    warnings.push(
      ...tufupPolicyWarnings(
        {
          tufupLayout: !ctx.state.layout.consistentSnapshot,
          noTufupClients: options.noTufupClients ?? false,
          app,
        },
        `${app} ${version.normalized} has a rollout or minimum version`,
      ),
    );
  }
  return warnings;
}

type ReleasePatch = Awaited<ReturnType<typeof makeReleasePatch>>;

/** Archives the bundle into `tempPath`, then makes the patch from the previous release (unless skipped). */
async function archiveAndPatch(
  ctx: PublishContext,
  options: AddReleaseOptions,
  plan: ReleasePlan,
  tempPath: string,
): Promise<{ archive: ArchiveResult; patch: ReleasePatch | undefined }> {
  const { previous } = plan;
  const archive = await createArchive({
    bundleDir: options.bundleDir,
    outFile: tempPath,
    ...(options.mtime === undefined ? {} : { mtime: options.mtime }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress
      ? {
          onProgress: (p) => options.onProgress?.({ phase: 'archive', done: p.bytes, total: p.totalBytes }),
        }
      : {}),
  });
  const patch =
    previous && !options.skipPatch
      ? await makeReleasePatch({
          layout: ctx.state.layout,
          app: plan.app,
          version: plan.version,
          previous,
          newArchivePath: tempPath,
          newTar: { size: archive.tarSize, sha256: archive.tarSha256 },
          codec: plan.codec,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProgress
            ? { onProgress: (p) => options.onProgress?.({ phase: 'patch', done: p.done, total: p.total }) }
            : {}),
        })
      : undefined;
  return { archive, patch };
}

function addedRelease(
  plan: ReleasePlan,
  archive: ArchiveResult,
  patch: ReleasePatch | undefined,
  warnings: readonly string[],
): AddedRelease {
  const { previous } = plan;
  return {
    app: plan.app,
    version: plan.version.normalized,
    archive: {
      name: plan.name,
      length: archive.size,
      sha256: archive.sha256,
      tarSize: archive.tarSize,
      tarSha256: archive.tarSha256,
    },
    ...(patch && previous
      ? {
          patch: {
            name: patch.file.name,
            length: patch.target.length,
            codec: patch.codec,
            from: previous.version.normalized,
          },
        }
      : {}),
    warnings,
  };
}

/**
 * The line of a new release: undefined for the main line, which must go up; a maintenance release (an explicit
 * choice) may sit below the latest release, in a line that holds its version.
 * @throws NotsotufError VERSION_NOT_NEWER, INVALID_ARGUMENT.
 */
function maintenanceLine(
  app: string,
  version: Version,
  releases: readonly Release[],
  options: AddReleaseOptions,
): string | undefined {
  const latest = releases.at(-1);
  const below = latest !== undefined && compareVersions(latest.version, version) > 0;
  if (!options.maintenance) {
    if (options.line !== undefined) {
      throw new NotsotufError('INVALID_ARGUMENT', '--line is for maintenance releases.', {
        hint: 'Pass --maintenance with --line, or leave --line out.',
      });
    }
    if (below) {
      throw new NotsotufError(
        'VERSION_NOT_NEWER',
        `${app} ${version.normalized} is lower than the latest release ${latest.version.normalized}.`,
        {
          hint: 'Releases form one chain in version order; publish a version above the latest one, or pass --maintenance for a patch release on an older line (offered only to installs on that line).',
          details: { app, version: version.normalized, latest: latest.version.normalized },
        },
      );
    }
    return undefined;
  }
  if (!below) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `${app} ${version.normalized} is above every release, so it is not a maintenance release.`,
      { hint: 'Leave out --maintenance: a release above the latest one is the main line.' },
    );
  }
  const line = options.line ?? defaultLine(version);
  const policy: ReleasePolicy = checkReleasePolicy({ line });
  if (!policy.line || !inLine(version, policy.line)) {
    throw new NotsotufError('INVALID_ARGUMENT', `${version.normalized} is not in line ${line}.`, {
      hint: 'The line is a prefix of the version: 1.4 holds 1.4.3, 1 holds 1.9.2.',
    });
  }
  return policy.line;
}

/** The target names (archive and patch) of one release, with their hashes for locating the files. */
function releaseTargets(release: Release): { name: string; sha256: string }[] {
  return [release.archive, release.patch]
    .filter((f) => f !== undefined)
    .map((f) => ({ name: f.name, sha256: f.sha256 ?? '' }));
}

/**
 * Removes releases. A removed release loses its archive and its patch; the metadata stays valid, and a client
 * whose patch chain now has a gap downloads the full archive instead.
 */
function draftRemove(ctx: PublishContext, app: string, remove: Release[], description: string): Draft {
  const removedTargets = remove.flatMap(releaseTargets);
  const targets = nextTargets(ctx.state.targets, ctx.config.config.expiration_days.targets, ctx.now, {
    remove: removedTargets.map((t) => t.name),
  });
  const warnings = tufupGapWarnings(
    { tufupLayout: !ctx.state.layout.consistentSnapshot, app },
    releasesOf(ctx, app).map((r) => ({ version: r.version.normalized, hasPatch: r.patch !== undefined })),
    new Set(remove.map((r) => r.version.normalized)),
  );
  return { description, targets, newTargetFiles: [], removedTargets, warnings };
}

export function draftRemoveRelease(ctx: PublishContext, version: string, platform?: string): Draft {
  const app = appFor(ctx, platform);
  const v: Version = parseVersion(version);
  const release = releasesOf(ctx, app).find((r) => compareVersions(r.version, v) === 0);
  if (!release) {
    throw new NotsotufError('RELEASE_NOT_FOUND', `${app} has no release ${v.normalized}.`, {
      hint: 'List the releases with notsotuf release list.',
      details: { app, version: v.normalized },
    });
  }
  return draftRemove(ctx, app, [release], `release remove ${app} ${v.normalized}`);
}

/**
 * Keeps the newest `keep` releases of the app and removes the older ones. The patch of the oldest kept
 * release stays: clients still on the release before it can use it while their cached archive lasts.
 */
export function draftPruneReleases(ctx: PublishContext, keep: number, platform?: string): Draft | undefined {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new NotsotufError('INVALID_ARGUMENT', `--keep must be a whole number of at least 1, not ${keep}.`, {
      hint: 'Keep at least the latest release, or clients would have nothing to install.',
    });
  }
  const app = appFor(ctx, platform);
  const releases = releasesOf(ctx, app);
  const remove = releases.slice(0, Math.max(0, releases.length - keep));
  if (remove.length === 0) return undefined;
  return draftRemove(ctx, app, remove, `release prune ${app} --keep ${keep}`);
}
