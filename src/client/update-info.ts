/** The update a check found, as the app sees it: plain data, safe to log or show (`--json`). */
import type { WithheldRelease } from './plan/offer.js';
import type { UpdatePlan } from './plan/plan-update.js';
import type { RouteEstimate } from './plan/route-cost.js';

export interface UpdateFileInfo {
  readonly name: string;
  readonly length: number;
}

export interface UpdateInfo {
  readonly currentVersion: string;
  /** The version the update installs. */
  readonly version: string;
  /** The publisher marked this release as required: it must be installed before any later one. */
  readonly required: boolean;
  /** The publisher's metadata for the release (release notes …), `null` when none. Untrusted shape: check it. */
  readonly user: unknown;
  /** How: `estimate` gives both routes' expected seconds when the choice was made on time (see `planUpdate`). */
  readonly method:
    | {
        readonly kind: 'patch';
        readonly patches: readonly UpdateFileInfo[];
        readonly estimate?: RouteEstimate;
      }
    | {
        readonly kind: 'full';
        readonly archive: UpdateFileInfo;
        readonly reason: string;
        readonly estimate?: RouteEstimate;
      };
  /** Bytes the update downloads. */
  readonly downloadBytes: number;
  /** Size of the full archive, for comparison. */
  readonly archiveBytes: number;
  /**
   * The app must update: this install is below the release's minimum version (`release critical`), or its
   * release was recalled.
   */
  readonly critical: boolean;
  /** The installed release was recalled; `version` is the release the publisher moves it to (may be lower). */
  readonly recall?: { readonly from: string; readonly reason?: string };
  /** Offered through a staged rollout: the share offered now and this install's bucket (0–100). */
  readonly rollout?: { readonly percent: number; readonly bucket: number };
  /** Newer releases not offered to this install, and why (`rollout`, `halted`, `recalled`, `line`). */
  readonly withheld: readonly WithheldRelease[];
}

/** Describes an update plan for the app. */
export function describePlan(plan: UpdatePlan & { kind: 'update' }, currentVersion: string): UpdateInfo {
  const file = (f: { name: string; length: number }) => ({ name: f.name, length: f.length });
  const m = plan.method;
  return {
    currentVersion,
    version: plan.release.version.raw,
    required: plan.release.required,
    user: plan.release.user,
    method:
      m.kind === 'patch'
        ? { kind: 'patch', patches: m.patches.map(file), ...(m.estimate ? { estimate: m.estimate } : {}) }
        : {
            kind: 'full',
            archive: file(m.archive),
            reason: m.reason,
            ...(m.estimate ? { estimate: m.estimate } : {}),
          },
    downloadBytes: m.bytes,
    archiveBytes: plan.archive.length,
    critical: plan.reason?.critical ?? false,
    ...(plan.reason?.recall ? { recall: plan.reason.recall } : {}),
    ...(plan.reason?.rollout ? { rollout: plan.reason.rollout } : {}),
    withheld: plan.withheld ?? [],
  };
}
