import { describeReleasePolicy, type ReleasePolicy } from '../core/release-policy.js';
import type { Release } from '../core/releases.js';

function policyText(policy: ReleasePolicy | undefined, now: Date): { control?: string } {
  const text = describeReleasePolicy(policy, now.getTime());
  return text ? { control: text } : {};
}

import { daysUntil, parseExpiry } from '../tuf/expiry.js';
import type { KeyEntry } from '../tuf/keystore.js';
import { countSignatures, ROLE_NAMES, type RoleName } from '../tuf/metadata.js';
import type { RepoConfig } from './config.js';
import type { RepoState } from './state.js';

export interface RoleStatus {
  readonly role: RoleName;
  readonly version: number;
  readonly expires: string;
  readonly daysLeft: number;
  /** `expired`, `expiring` (less than a fifth of its period left) or `ok`. */
  readonly expiry: 'ok' | 'expiring' | 'expired';
  readonly threshold: number;
  readonly validSignatures: number;
  readonly keys: readonly {
    keyid: string;
    name: string | undefined;
    signed: boolean;
    privateKeyHere: boolean;
  }[];
}

export interface ReleaseStatus {
  readonly app: string;
  readonly version: string;
  readonly required: boolean;
  readonly archive?: { name: string; length: number };
  readonly patch?: { name: string; length: number };
  /** Rollout, halt, recall, line, minimum version, as signed (see release-policy.ts). */
  readonly policy?: ReleasePolicy;
  /** The policy in words, at the time of the status (e.g. `rollout 10 %, halted`). */
  readonly control?: string;
}

export interface RepoStatus {
  readonly appName: string;
  readonly repoDir: string;
  readonly consistentSnapshot: boolean;
  readonly roles: readonly RoleStatus[];
  readonly releases: readonly ReleaseStatus[];
  readonly stagedChange: boolean;
  /** Human-readable warnings (expiring roles, unmet thresholds). */
  readonly warnings: readonly string[];
}

/** Expiry state of a role, given its configured period: warn once less than a fifth of it is left. */
export function expiryState(daysLeft: number, periodDays: number): RoleStatus['expiry'] {
  if (daysLeft <= 0) return 'expired';
  return daysLeft < periodDays / 5 ? 'expiring' : 'ok';
}

/** Builds the status report from data already loaded (pure, so it is tested as data). */
export function buildStatus(input: {
  state: RepoState;
  config: RepoConfig;
  repoDir: string;
  keys: readonly KeyEntry[];
  releases: ReadonlyMap<string, readonly Release[]>;
  stagedChange: boolean;
  now: Date;
}): RepoStatus {
  const { state, config, keys, now } = input;
  const warnings: string[] = [];
  const roles = ROLE_NAMES.map((role): RoleStatus => {
    const md = state[role];
    const daysLeft = daysUntil(parseExpiry(md.signed.expires, role), now);
    const count = countSignatures(state.root.signed, role, md);
    const expiry = expiryState(daysLeft, config.expiration_days[role]);
    if (expiry === 'expired') warnings.push(`${role} expired on ${md.signed.expires}: run notsotuf refresh.`);
    if (expiry === 'expiring')
      warnings.push(`${role} expires in ${daysLeft.toFixed(1)} days: run notsotuf refresh.`);
    if (count.valid.length < count.threshold) {
      warnings.push(`${role} has ${count.valid.length} of ${count.threshold} required signatures.`);
    }
    return {
      role,
      version: md.signed.version,
      expires: md.signed.expires,
      daysLeft: Math.round(daysLeft * 100) / 100,
      expiry,
      threshold: count.threshold,
      validSignatures: count.valid.length,
      keys: count.authorised.map((keyid) => {
        const key = keys.find((k) => k.keyid === keyid);
        return {
          keyid,
          name: key?.name,
          signed: count.valid.includes(keyid),
          privateKeyHere: key?.hasPrivate ?? false,
        };
      }),
    };
  });
  const releases: ReleaseStatus[] = [];
  for (const [app, list] of [...input.releases.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const r of list) {
      releases.push({
        app,
        version: r.version.normalized,
        required: r.required,
        ...(r.archive ? { archive: { name: r.archive.name, length: r.archive.length } } : {}),
        ...(r.patch ? { patch: { name: r.patch.name, length: r.patch.length } } : {}),
        ...(r.policy ? { policy: r.policy } : {}),
        ...policyText(r.policy, input.now),
      });
    }
  }
  if (input.stagedChange) warnings.push('A change is staged and waits for more signatures (notsotuf sign).');
  return {
    appName: config.app_name,
    repoDir: input.repoDir,
    consistentSnapshot: state.root.signed.consistentSnapshot,
    roles,
    releases,
    stagedChange: input.stagedChange,
    warnings,
  };
}
