/**
 * What a new release means for apps that still update with tufup's client. Those apps read a repository in
 * tufup's layout (no consistent snapshots: a repository made by tufup, or `notsotuf init --no-consistent-snapshot`)
 * and apply only bsdiff4 patches, and they apply every patch between their version and the new one as one chain
 * without checking where each patch starts. Pure decisions over data; `release add` acts on them.
 */
import { NotsotufError } from '../core/errors.js';
import { TUFUP_PATCH_CODEC } from '../patch/registry.js';

export interface TufupReleaseCheck {
  /** The repository has tufup's layout, so tufup clients are assumed to read it. */
  readonly tufupLayout: boolean;
  /** The publisher says no tufup client reads this repository any more (`--no-tufup-clients`). */
  readonly noTufupClients: boolean;
  readonly app: string;
  readonly version: string;
  /** The version the patch would start from; absent for the app's first release. */
  readonly previous?: string;
  /** Whether a patch from `previous` is made. */
  readonly patch: boolean;
  /** The codec of that patch. */
  readonly codec: string;
  /** A maintenance release on an older line (`release add --maintenance`). */
  readonly maintenance?: boolean;
}

/**
 * Refuses a release whose patch tufup clients cannot apply (they would download it, fail, and only fall back to
 * the full archive on their next check), and returns warnings for what they can use, but worse than intended.
 * @throws NotsotufError `TUFUP_INCOMPATIBLE`.
 */
export function checkTufupRelease(input: TufupReleaseCheck): string[] {
  if (!input.tufupLayout || input.noTufupClients || input.previous === undefined) return [];
  const release = `${input.app} ${input.version}`;
  if (input.maintenance) {
    throw new NotsotufError(
      'TUFUP_INCOMPATIBLE',
      `${release} would be a maintenance release below the latest one, which tufup clients cannot tell apart from the main line: they would be offered it and apply its patch in the wrong chain. This repository has tufup's layout, so apps with tufup's client read it.`,
      {
        hint: 'Pass --no-tufup-clients once no app with tufup’s client updates from this repository.',
        details: { app: input.app, version: input.version },
      },
    );
  }
  if (input.patch && input.codec !== TUFUP_PATCH_CODEC) {
    throw new NotsotufError(
      'TUFUP_INCOMPATIBLE',
      `The patch of ${release} would use the ${input.codec} codec, which tufup clients cannot apply: this repository has tufup's layout, so apps with tufup's client read it.`,
      {
        hint: `Leave out --patch-codec (bsdiff4 is the default here), or pass --no-tufup-clients once no app with tufup's client updates from this repository.`,
        details: { app: input.app, version: input.version, codec: input.codec },
      },
    );
  }
  if (!input.patch) {
    return [
      `${release} has no patch from ${input.previous}: tufup clients below ${input.version} that update past it apply the later patches to their own version, fail once, and download the full archive on their next check. Publish with a patch unless you mean that.`,
    ];
  }
  return [];
}

/** One release of an app, oldest first, as far as the gap check needs it. */
export interface ChainLink {
  readonly version: string;
  readonly hasPatch: boolean;
}

/**
 * Warnings for removing releases from the middle of an app's chain in tufup's layout: a kept release whose patch
 * starts at a removed one is applied by tufup clients older than that one to their own tar (tufup does not check
 * where a patch starts), which fails once before their next check downloads the full archive. Clients on the
 * removed release itself still patch correctly, so removing only the oldest releases' base is harmless.
 */
export function tufupGapWarnings(
  input: { readonly tufupLayout: boolean; readonly app: string },
  chain: readonly ChainLink[],
  removed: ReadonlySet<string>,
): string[] {
  if (!input.tufupLayout) return [];
  const warnings: string[] = [];
  for (let i = 2; i < chain.length; i++) {
    const [release, base] = [chain[i]!, chain[i - 1]!];
    if (removed.has(release.version) || !release.hasPatch || !removed.has(base.version)) continue;
    warnings.push(
      `${input.app} ${release.version} keeps its patch from the removed ${base.version}: tufup clients below ${base.version} that update to ${release.version} or later apply it to their own version, fail once, and download the full archive on their next check.`,
    );
  }
  return warnings;
}

/**
 * Warnings for a release policy in tufup's layout: tufup's client reads `required` only, so it installs a release
 * whatever its rollout share, halt or recall says.
 */
export function tufupPolicyWarnings(
  input: { readonly tufupLayout: boolean; readonly noTufupClients: boolean; readonly app: string },
  what: string,
): string[] {
  if (!input.tufupLayout || input.noTufupClients) return [];
  return [
    `${what}: apps with tufup's client do not read release policies; for them every release is offered to all at once. Only notsotuf clients follow it.`,
  ];
}
