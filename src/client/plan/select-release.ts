/**
 * Which release a client should move to: tufup's rules over the trusted release list, as a pure function.
 * Channels follow PEP 440 pre-release levels (semver `-rc.N`/`-beta.N`/`-alpha.N` are normalised to them).
 */
import type { Release } from '../../core/releases.js';
import { compareVersions, preReleaseLevel, type Version } from '../../core/version.js';

/** The update channel: `final` takes finals only; each further channel also takes the levels above it. */
export type Channel = 'final' | 'rc' | 'beta' | 'alpha';

export const CHANNELS: readonly Channel[] = ['final', 'rc', 'beta', 'alpha'];

// Which pre-release levels each channel accepts (finals are always accepted; dev/post/local count as finals).
const ACCEPTED_LEVELS: Readonly<Record<Channel, ReadonlySet<string>>> = {
  final: new Set(),
  rc: new Set(['rc']),
  beta: new Set(['rc', 'b']),
  alpha: new Set(['rc', 'b', 'a']),
};

/** True when `version` may be offered on `channel`. */
export function inChannel(version: Version, channel: Channel): boolean {
  const level = preReleaseLevel(version);
  return level === undefined || ACCEPTED_LEVELS[channel].has(level);
}

export interface SelectReleaseInput {
  /** The app's releases, ascending by version (as `groupReleases` returns them). */
  readonly releases: readonly Release[];
  readonly current: Version;
  readonly channel: Channel;
  /** Skip over required releases (tufup's `ignore_required`). Default false. */
  readonly ignoreRequired?: boolean;
  /**
   * Normalized versions that failed their trial on this machine and were rolled back: never offered again, so the
   * client waits for a newer release instead of installing the broken one in a loop.
   */
  readonly failedVersions?: ReadonlySet<string>;
}

/**
 * The release to update to, or undefined when none is newer. Among newer releases that have an archive and are in
 * the channel, the first required one (ascending) wins — a client never jumps over a release its publisher marked
 * required — otherwise the highest.
 */
export function selectRelease(input: SelectReleaseInput): Release | undefined {
  let best: Release | undefined;
  for (const release of input.releases) {
    if (!release.archive) continue;
    if (compareVersions(release.version, input.current) <= 0) continue;
    if (!inChannel(release.version, input.channel)) continue;
    if (input.failedVersions?.has(release.version.normalized)) continue;
    if (release.required && !input.ignoreRequired) return release;
    if (!best || compareVersions(release.version, best.version) > 0) best = release;
  }
  return best;
}
