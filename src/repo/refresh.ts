import { daysUntil, parseExpiry } from '../tuf/expiry.js';
import type { Keystore } from '../tuf/keystore.js';
import { ROLE_NAMES, type RoleName } from '../tuf/metadata.js';
import { type Draft, nextTargets, nextVersion } from './draft.js';
import type { PublishContext } from './publish.js';
import type { RepoState } from './state.js';

/**
 * Roles whose metadata expires within `withinDays` of `now` (already expired ones included). Without a window,
 * a role is due once less than half of its configured lifetime is left — so a fresh repository has nothing due,
 * and a cron job that runs more often than half the shortest lifetime (12 hours for tufup's 1-day timestamp)
 * never lets anything expire.
 */
export function rolesExpiringWithin(
  state: RepoState,
  withinDays: number | undefined,
  now: Date,
  lifetimeDays: Readonly<Record<RoleName, number>>,
): RoleName[] {
  return ROLE_NAMES.filter((role) => {
    const left = daysUntil(parseExpiry(state[role].signed.expires, role), now);
    return left < (withinDays ?? lifetimeDays[role] / 2);
  });
}

async function canSign(keystore: Keystore, keyids: readonly string[], threshold: number): Promise<boolean> {
  let available = 0;
  for (const keyid of new Set(keyids)) if (await keystore.signerFor(keyid)) available++;
  return available >= threshold;
}

export interface RefreshPlan {
  /** @internal The change to sign, when anything is due. */
  readonly draft: Draft | undefined;
  /** Roles that get a new version. */
  readonly refreshed: RoleName[];
  /** Expiring roles that cannot be refreshed here, and why. */
  readonly skipped: { role: RoleName; reason: string }[];
}

/**
 * Plans a refresh for a cron job: re-sign every role that expires within `withinDays`, as far as the keys at
 * hand allow. Offline roles (root, targets) whose keys are not here are reported, not treated as an error of
 * the online roles; snapshot and timestamp are re-signed whenever anything is.
 */
export async function planRefresh(
  ctx: PublishContext,
  withinDays: number | undefined,
  options: { onlineOnly?: boolean } = {},
): Promise<RefreshPlan> {
  const { state, keystore, now } = ctx;
  const days = ctx.config.config.expiration_days;
  const expiring = rolesExpiringWithin(state, withinDays, now, days);
  const skipped: RefreshPlan['skipped'] = [];
  const draft: Draft = {
    description: withinDays === undefined ? 'refresh' : `refresh within ${withinDays} days`,
    newTargetFiles: [],
    removedTargets: [],
  };
  for (const role of ['root', 'targets'] as const) {
    if (!expiring.includes(role)) continue;
    const def = state.root.signed.roles[role];
    if (options.onlineOnly) {
      skipped.push({
        role,
        reason: 'a staged change waits for signatures; finish it with notsotuf sign first',
      });
      continue;
    }
    if (!def || !(await canSign(keystore, def.keyIDs, def.threshold))) {
      skipped.push({ role, reason: `not enough ${role} private keys here to meet its threshold` });
      continue;
    }
    if (role === 'root') draft.root = nextVersion('root', state.root, days.root, now);
    else draft.targets = nextTargets(state.targets, days.targets, now, {});
  }
  const needsOnline =
    expiring.length > skipped.length || draft.root !== undefined || draft.targets !== undefined;
  if (!needsOnline) return { draft: undefined, refreshed: [], skipped };
  const refreshed: RoleName[] = [];
  if (draft.root) refreshed.push('root');
  if (draft.targets) refreshed.push('targets');
  refreshed.push('snapshot', 'timestamp');
  return { draft, refreshed, skipped };
}
