/**
 * Release control, as signed data: the policy of a release lives in its archive's target entry, in
 * `custom.tufup.notsotuf` beside the tar facts, so only the targets key can change it (a mirror, a CDN or a stolen
 * timestamp/snapshot key cannot), and TUF's version rules protect it from rollback and freeze like any target.
 * tufup's client never reads it (it looks at `custom.tufup.required` only).
 *
 * In the metadata (snake_case, integers only, as canonical JSON wants):
 * `"rollout": [{"percent": 10, "start": "2026-12-06T12:00:00Z"}, …]`, `"halted": true`,
 * `"recall": {"to": "1.2.9", "reason": "…"}`, `"line": "1.4"`, `"minimum_version": "1.2.0"`.
 */
import { describeValue } from './describe-value.js';
import { NotsotufError } from './errors.js';
import { compareVersions, parseVersion, type Version } from './version.js';

/** One wave of a staged rollout: from `start` on, `percent` of installs are offered the release. */
export interface RolloutWave {
  /** 0–100, whole numbers. */
  readonly percent: number;
  /** ISO 8601 UTC time (`2026-12-06T12:00:00Z`). */
  readonly start: string;
}

export interface ReleasePolicy {
  /** Waves in time order with non-decreasing shares; absent: offered to every install. */
  readonly rollout?: readonly RolloutWave[];
  /** Offered to nobody new; installs already on it stay. */
  readonly halted?: boolean;
  /** Installs running this release are told to install `to` (a lower version is allowed). */
  readonly recall?: { readonly to: string; readonly reason?: string };
  /** A maintenance release: offered only to installs whose version is in this line (a version prefix). */
  readonly line?: string;
  /** Installs below this version must update (Sparkle's critical update). */
  readonly minimumVersion?: string;
}

/** The fields of `custom.tufup.notsotuf` that hold the policy. */
export const POLICY_KEYS = ['rollout', 'halted', 'recall', 'line', 'minimum_version'] as const;

const MAX_WAVES = 16;
const MAX_REASON = 500;
const LINE_RE = /^\d+(?:\.\d+){0,3}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

type Fail = (message: string) => never;
type Obj = Record<string, unknown>;

const isObject = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const own = (obj: Obj, key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

function checkPercent(value: unknown, field: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
    fail(`${field} must be a whole number from 0 to 100, got ${describeValue(value)}`);
  }
  return value;
}

function checkTime(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== 'string' || !ISO_RE.test(value) || Number.isNaN(Date.parse(value))) {
    fail(`${field} must be an ISO 8601 UTC time such as 2026-12-06T12:00:00Z`);
  }
  return value;
}

function checkVersionText(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== 'string') fail(`${field} must be a version string`);
  try {
    return parseVersion(value).normalized;
  } catch {
    return fail(`${field} is not a valid version: ${describeValue(value)}`);
  }
}

function checkWaves(value: unknown, fail: Fail): RolloutWave[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_WAVES) {
    fail(`rollout must be a list of 1 to ${MAX_WAVES} waves`);
  }
  const waves = value.map((wave, i) => {
    if (!isObject(wave)) fail(`rollout[${i}] must be an object`);
    return {
      percent: checkPercent(own(wave, 'percent'), `rollout[${i}].percent`, fail),
      start: checkTime(own(wave, 'start'), `rollout[${i}].start`, fail),
    };
  });
  for (let i = 1; i < waves.length; i++) {
    const [a, b] = [waves[i - 1] as RolloutWave, waves[i] as RolloutWave];
    // Raising the share only adds installs; a wave that lowered it would take the release from some.
    if (Date.parse(b.start) < Date.parse(a.start) || b.percent < a.percent) {
      fail('rollout waves must be in time order with shares that never go down');
    }
  }
  return waves;
}

/**
 * Reads the policy fields of a `custom.tufup.notsotuf` object (remote data: every field checked).
 * @throws through `fail` (METADATA_INVALID for metadata, INVALID_ARGUMENT for input) naming the bad field.
 */
export function readReleasePolicy(notsotuf: Obj, fail: Fail): ReleasePolicy | undefined {
  const policy: {
    -readonly [K in keyof ReleasePolicy]: ReleasePolicy[K];
  } = {};
  const rollout = own(notsotuf, 'rollout');
  if (rollout !== undefined) policy.rollout = checkWaves(rollout, fail);
  const halted = own(notsotuf, 'halted');
  if (halted !== undefined) {
    if (typeof halted !== 'boolean') fail('halted must be true or false');
    if (halted) policy.halted = true;
  }
  const recall = own(notsotuf, 'recall');
  if (recall !== undefined) {
    if (!isObject(recall)) fail('recall must be an object');
    const reason = own(recall, 'reason');
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON)) {
      fail(`recall.reason must be text of at most ${MAX_REASON} characters`);
    }
    policy.recall = {
      to: checkVersionText(own(recall, 'to'), 'recall.to', fail),
      ...(reason === undefined ? {} : { reason }),
    };
  }
  const line = own(notsotuf, 'line');
  if (line !== undefined) {
    if (typeof line !== 'string' || !LINE_RE.test(line)) fail('line must be a version prefix such as 1.4');
    policy.line = line;
  }
  const minimum = own(notsotuf, 'minimum_version');
  if (minimum !== undefined) policy.minimumVersion = checkVersionText(minimum, 'minimum_version', fail);
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** The policy as written into `custom.tufup.notsotuf` (absent fields left out). */
export function policyFields(policy: ReleasePolicy | undefined): Obj {
  if (!policy) return {};
  return {
    ...(policy.rollout
      ? { rollout: policy.rollout.map((w) => ({ percent: w.percent, start: w.start })) }
      : {}),
    ...(policy.halted ? { halted: true } : {}),
    ...(policy.recall ? { recall: { ...policy.recall } } : {}),
    ...(policy.line ? { line: policy.line } : {}),
    ...(policy.minimumVersion ? { minimum_version: policy.minimumVersion } : {}),
  };
}

/** Checks a policy given by the publisher. @throws NotsotufError INVALID_ARGUMENT naming the bad field. */
export function checkReleasePolicy(policy: ReleasePolicy): ReleasePolicy {
  const fail: Fail = (message) => {
    throw new NotsotufError('INVALID_ARGUMENT', `Invalid release policy: ${message}.`, {
      hint: 'See docs/rollout.md for the rollout, halt, recall, line and minimum-version options.',
    });
  };
  return readReleasePolicy(policyFields(policy), fail) ?? {};
}

/** The share of installs offered the release at `now` (ms since the epoch): the last wave started, else 0. */
export function rolloutPercent(waves: readonly RolloutWave[] | undefined, now: number): number {
  if (!waves) return 100;
  let percent = 0;
  for (const wave of waves) if (Date.parse(wave.start) <= now) percent = wave.percent;
  return percent;
}

/** True when `version` is in `line` (`1.4` holds 1.4, 1.4.0, 1.4.3, 1.4.3rc1; not 1.40 or 2.0). */
export function inLine(version: Version, line: string): boolean {
  const prefix = line.split('.').map(Number);
  return prefix.every((n, i) => (version.release[i] ?? 0) === n);
}

/** The default line of a maintenance release: its major.minor (`1.4.3` → `1.4`). */
export function defaultLine(version: Version): string {
  return `${version.release[0] ?? 0}.${version.release[1] ?? 0}`;
}

/** True when the release is critical for an install at `current` (it is below the release's minimum version). */
export function isCriticalFor(policy: ReleasePolicy | undefined, current: Version): boolean {
  return (
    policy?.minimumVersion !== undefined && compareVersions(current, parseVersion(policy.minimumVersion)) < 0
  );
}

/** One line for people: `rollout 10 % (50 % from …)`, `halted`, `recalled → 1.2.9`, `line 1.4`, `critical below 1.2`. */
export function describeReleasePolicy(policy: ReleasePolicy | undefined, now: number): string | undefined {
  if (!policy) return undefined;
  const parts: string[] = [];
  if (policy.rollout) {
    const next = policy.rollout.find((w) => Date.parse(w.start) > now);
    parts.push(
      `rollout ${rolloutPercent(policy.rollout, now)} %${next ? ` (${next.percent} % from ${next.start})` : ''}`,
    );
  }
  if (policy.halted) parts.push('halted');
  if (policy.recall) {
    parts.push(`recalled → ${policy.recall.to}${policy.recall.reason ? ` (${policy.recall.reason})` : ''}`);
  }
  if (policy.line) parts.push(`maintenance line ${policy.line}`);
  if (policy.minimumVersion) parts.push(`critical below ${policy.minimumVersion}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}
