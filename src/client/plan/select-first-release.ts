/**
 * Which release a first install takes, as a pure function over the trusted release list. There is no installed
 * version yet, so tufup's rule for updates (never jump over a release marked required) has nothing to apply to:
 * the first install takes the newest release in the channel, or exactly the version asked for.
 */
import { NotsotufError } from '../../core/errors.js';
import type { Release, ReleaseFile } from '../../core/releases.js';
import { compareVersions, type Version } from '../../core/version.js';
import { type Channel, inChannel } from './select-release.js';

/** A release with the full archive a first install downloads (patches need an installed version). */
export type InstallableRelease = Release & { readonly archive: ReleaseFile };

export interface SelectFirstReleaseInput {
  /** Every app's releases, as `groupReleases` returns them (ascending by version). */
  readonly grouped: ReadonlyMap<string, readonly Release[]>;
  readonly appName: string;
  readonly channel: Channel;
  /** The version to install; the channel does not restrict a version asked for by name. Default: the newest. */
  readonly version?: Version;
}

function hasArchive(release: Release): release is InstallableRelease {
  return release.archive !== undefined;
}

/**
 * The release a first install takes.
 *
 * @throws NotsotufError APP_NOT_FOUND (the repository has releases, none of `appName`; `details.apps` lists
 *   them), RELEASE_NOT_FOUND (no such version, no archive of it, or nothing in the channel; `details.versions`
 *   lists what can be installed).
 */
export function selectFirstRelease(input: SelectFirstReleaseInput): InstallableRelease {
  const { grouped, appName, channel, version } = input;
  const releases = grouped.get(appName) ?? [];
  if (releases.length === 0 && grouped.size > 0) {
    const apps = [...grouped.keys()].sort();
    throw new NotsotufError(
      'APP_NOT_FOUND',
      `The repository has no releases of the app "${appName}"; it has releases of: ${apps.join(', ')}.`,
      {
        hint: `Use the app name the repository publishes (--app), e.g. ${JSON.stringify(apps[0])}; a platform build is named <app>-<os>-<arch>.`,
        details: { app: appName, apps },
      },
    );
  }
  const installable = releases.filter(hasArchive);
  const versions = installable.map((r) => r.version.raw);
  const details = { app: appName, versions };
  const listed = versions.length > 0 ? `It has: ${versions.join(', ')}.` : 'It has none.';
  if (version !== undefined) {
    const found = installable.find((r) => compareVersions(r.version, version) === 0);
    if (found) return found;
    throw new NotsotufError(
      'RELEASE_NOT_FOUND',
      `The repository has no installable release ${version.raw} of "${appName}". ${listed}`,
      { hint: 'Pass one of the versions it has, or leave the version out to install the newest.', details },
    );
  }
  const inIt = installable.filter((r) => inChannel(r.version, channel));
  const newest = inIt[inIt.length - 1];
  if (newest) return newest;
  throw new NotsotufError(
    'RELEASE_NOT_FOUND',
    `The repository has no release of "${appName}" in channel ${channel}. ${listed}`,
    {
      hint:
        versions.length > 0
          ? 'Only pre-releases are published: choose a channel that takes them (rc, beta, alpha), or a version.'
          : 'Publish a release first (notsotuf release add), or check the repository location.',
      details: { ...details, channel },
    },
  );
}
