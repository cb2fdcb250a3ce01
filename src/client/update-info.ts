/** The update a check found, as the app sees it: plain data, safe to log or show (`--json`). */
import type { UpdatePlan } from './plan/plan-update.js';

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
  readonly method:
    | { readonly kind: 'patch'; readonly patches: readonly UpdateFileInfo[] }
    | { readonly kind: 'full'; readonly archive: UpdateFileInfo; readonly reason: string };
  /** Bytes the update downloads. */
  readonly downloadBytes: number;
  /** Size of the full archive, for comparison. */
  readonly archiveBytes: number;
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
        ? { kind: 'patch', patches: m.patches.map(file) }
        : { kind: 'full', archive: file(m.archive), reason: m.reason },
    downloadBytes: m.bytes,
    archiveBytes: plan.archive.length,
  };
}
