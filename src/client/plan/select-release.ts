/**
 * Which release a client should move to: tufup's rules over the trusted release list, as a pure function.
 * Channels follow PEP 440 pre-release levels (semver `-rc.N`/`-beta.N`/`-alpha.N` are normalised to them).
 */
import type { Release } from '../../core/releases.js';
import { compareVersions, preReleaseLevel, type Version } from '../../core/version.js';
import { type OfferContext, type OfferDecision, offerDecision, type WithheldRelease } from './offer.js';

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
  /** Apply the signed release policies (rollout, halt, recall, line, minimum version) for this install. */
  readonly offer?: OfferContext;
}

/** The chosen release, how it is offered, and the newer releases the policies withheld (oldest first). */
export interface Selection {
  readonly release?: Release;
  readonly decision?: OfferDecision & { offered: true };
  readonly withheld: readonly WithheldRelease[];
}

const OFFERED: OfferDecision & { offered: true } = { offered: true, critical: false };

/**
 * The release to update to, or undefined when none is newer. Among newer releases that have an archive, are in
 * the channel and are offered to this install, the first required one (ascending) wins — a client never jumps
 * over a release its publisher marked required, and waits while such a release is halted or not yet rolled out
 * to it — otherwise the highest.
 */
export function selectOffered(input: SelectReleaseInput): Selection {
  let best: { release: Release; decision: OfferDecision & { offered: true } } | undefined;
  const withheld: WithheldRelease[] = [];
  // An install below the minimum version of any release it is offered must update, even when it is offered a
  // still newer release that sets no minimum (it jumps over the critical one, but must not stay where it is).
  let critical = false;
  const marked = (decision: OfferDecision & { offered: true }) =>
    critical && !decision.critical ? { ...decision, critical: true } : decision;
  for (const release of input.releases) {
    if (!release.archive) continue;
    if (compareVersions(release.version, input.current) <= 0) continue;
    if (!inChannel(release.version, input.channel)) continue;
    if (input.failedVersions?.has(release.version.normalized)) continue;
    const decision = input.offer ? offerDecision(release, input.offer) : OFFERED;
    const required = release.required && !input.ignoreRequired;
    if (!decision.offered) {
      withheld.push(decision.withheld);
      // A required release not offered yet blocks what comes after it; a recalled one or another line does not.
      if (required && (decision.withheld.reason === 'rollout' || decision.withheld.reason === 'halted'))
        break;
      continue;
    }
    critical ||= decision.critical;
    if (required) return { release, decision: marked(decision), withheld };
    if (!best || compareVersions(release.version, best.release.version) > 0) best = { release, decision };
  }
  return best ? { release: best.release, decision: marked(best.decision), withheld } : { withheld };
}

/** The release to update to (see {@link selectOffered}), or undefined. */
export function selectRelease(input: SelectReleaseInput): Release | undefined {
  return selectOffered(input).release;
}
