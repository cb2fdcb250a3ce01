/**
 * Whether a release is offered to this install, by its signed policy: pure functions over data.
 *
 * Each install draws a stable bucket per release, in [0, 100), from a random id it keeps in its cache dir (never
 * sent anywhere) hashed with the app and the release's version. A release at P % is offered when the bucket is
 * below P, so raising P only adds installs and an install's answer never flips back and forth; hashing the release
 * in gives each release its own early share, instead of the same installs always going first.
 */
import { createHash } from 'node:crypto';
import { inLine, isCriticalFor, rolloutPercent } from '../../core/release-policy.js';
import type { Release } from '../../core/releases.js';
import type { Version } from '../../core/version.js';

/** Why a newer release is not offered. */
export type WithheldReason = 'rollout' | 'halted' | 'recalled' | 'line';

export interface WithheldRelease {
  readonly version: string;
  readonly reason: WithheldReason;
  /** For `rollout`: the share offered now and this install's bucket. */
  readonly percent?: number;
  readonly bucket?: number;
  /** For `line`: the release's line. */
  readonly line?: string;
}

export interface OfferContext {
  readonly app: string;
  readonly current: Version;
  /** This install's stable random id (see the cache dir's `install-id`). */
  readonly installId: string;
  /** ms since the epoch, for rollout waves. */
  readonly now: number;
}

export type OfferDecision =
  | {
      readonly offered: true;
      /** The install is below the release's minimum version: it must update. */
      readonly critical: boolean;
      readonly rollout?: { readonly percent: number; readonly bucket: number };
    }
  | { readonly offered: false; readonly withheld: WithheldRelease };

/** This install's bucket for one release, in [0, 100): the first 48 bits of sha256(id, app, version). */
export function rolloutBucket(installId: string, app: string, version: Version): number {
  const digest = createHash('sha256').update(`${installId}\0${app}\0${version.normalized}`).digest();
  return (digest.readUIntBE(0, 6) / 2 ** 48) * 100;
}

/**
 * Whether `release` is offered to this install: not when recalled or halted, not outside its maintenance line,
 * and under a rollout only when the install's bucket is below the share of now — unless the install is below the
 * release's minimum version (a critical update reaches every install it is critical for).
 */
export function offerDecision(release: Release, ctx: OfferContext): OfferDecision {
  const policy = release.policy;
  const version = release.version.normalized;
  if (policy?.recall) return { offered: false, withheld: { version, reason: 'recalled' } };
  if (policy?.halted) return { offered: false, withheld: { version, reason: 'halted' } };
  if (policy?.line && !inLine(ctx.current, policy.line)) {
    return { offered: false, withheld: { version, reason: 'line', line: policy.line } };
  }
  const critical = isCriticalFor(policy, ctx.current);
  if (!policy?.rollout) return { offered: true, critical };
  const percent = rolloutPercent(policy.rollout, ctx.now);
  const bucket = rolloutBucket(ctx.installId, ctx.app, release.version);
  if (bucket < percent) return { offered: true, critical, rollout: { percent, bucket } };
  // Offered because it is critical here, not because the rollout reached this install.
  if (critical) return { offered: true, critical };
  return { offered: false, withheld: { version, reason: 'rollout', percent, bucket } };
}
