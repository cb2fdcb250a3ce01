/**
 * Release control on published releases: rollout share and waves, halt and resume, recall to a good release, and
 * the minimum version. Each is a change of the release's archive entry in a new targets version (signed with the
 * targets key like any release), so clients read it only through TUF; nothing else changes.
 */
import { TargetFile } from '@tufjs/models';
import { parseTargetCustom, upgradeEarlierCustom } from '../core/custom-metadata.js';
import { NotsotufError } from '../core/errors.js';
import {
  checkReleasePolicy,
  POLICY_KEYS,
  policyFields,
  type ReleasePolicy,
  type RolloutWave,
} from '../core/release-policy.js';
import { groupReleases, type Release } from '../core/releases.js';
import { platformAppName } from '../core/target-name.js';
import { compareVersions, parseVersion, type Version } from '../core/version.js';
import { type Draft, nextTargets } from './draft.js';
import type { PublishContext } from './publish.js';
import { targetEntries } from './release-ops.js';
import { tufupPolicyWarnings } from './tufup-clients.js';

/** One change of release policy. */
export type PolicyChange =
  | { readonly kind: 'rollout'; readonly waves: readonly RolloutWave[] }
  | { readonly kind: 'halt' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'recall'; readonly to: string; readonly reason?: string }
  | { readonly kind: 'unrecall' }
  | { readonly kind: 'minimum'; readonly minimumVersion: string | undefined };

/** Which releases a change applies to: one version, or every release from `version` to `through` (inclusive). */
export interface PolicyTarget {
  readonly version: string;
  readonly through?: string;
  readonly platform?: string;
}

/** The policy after `change` (pure). */
export function applyPolicyChange(policy: ReleasePolicy, change: PolicyChange): ReleasePolicy {
  const { rollout, halted, recall, minimumVersion, ...rest } = policy;
  const keep = {
    ...rest,
    ...(rollout ? { rollout } : {}),
    ...(halted ? { halted } : {}),
    ...(recall ? { recall } : {}),
    ...(minimumVersion ? { minimumVersion } : {}),
  };
  switch (change.kind) {
    case 'rollout': {
      // 100 % now, with no later waves, is the same as no rollout at all: say so in the metadata.
      const done = change.waves.length === 1 && change.waves[0]?.percent === 100;
      const { rollout: _old, ...without } = keep;
      return done ? without : { ...without, rollout: change.waves };
    }
    case 'halt':
      return { ...keep, halted: true };
    case 'resume': {
      const { halted: _h, ...without } = keep;
      return without;
    }
    case 'recall':
      return { ...keep, recall: { to: change.to, ...(change.reason ? { reason: change.reason } : {}) } };
    case 'unrecall': {
      const { recall: _r, ...without } = keep;
      return without;
    }
    case 'minimum': {
      const { minimumVersion: _m, ...without } = keep;
      return change.minimumVersion ? { ...without, minimumVersion: change.minimumVersion } : without;
    }
  }
}

function notFound(app: string, version: Version): never {
  throw new NotsotufError('RELEASE_NOT_FOUND', `${app} has no release ${version.normalized}.`, {
    hint: 'List the releases with notsotuf release list.',
    details: { app, version: version.normalized },
  });
}

/** The releases a target names, oldest first. @throws RELEASE_NOT_FOUND, INVALID_ARGUMENT. */
export function selectTargets(app: string, releases: readonly Release[], target: PolicyTarget): Release[] {
  const from = parseVersion(target.version);
  if (target.through === undefined) {
    const release = releases.find((r) => compareVersions(r.version, from) === 0);
    return release?.archive ? [release] : notFound(app, from);
  }
  const through = parseVersion(target.through);
  if (compareVersions(through, from) < 0) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `The range ${from.normalized}..${through.normalized} is empty.`,
      {
        hint: 'Give the lower version first, e.g. 1.3.0..1.3.5.',
      },
    );
  }
  const inRange = releases.filter(
    (r) => r.archive && compareVersions(r.version, from) >= 0 && compareVersions(r.version, through) <= 0,
  );
  return inRange.length > 0 ? inRange : notFound(app, from);
}

function checkRecall(
  app: string,
  releases: readonly Release[],
  chosen: readonly Release[],
  to: string,
): void {
  const good = parseVersion(to);
  const release = releases.find((r) => compareVersions(r.version, good) === 0);
  if (!release?.archive) {
    throw new NotsotufError('RELEASE_NOT_FOUND', `${app} has no release ${good.normalized} to recall to.`, {
      hint: 'Recall to a published release that has an archive (notsotuf release list).',
      details: { app, version: good.normalized },
    });
  }
  if (chosen.some((r) => compareVersions(r.version, good) === 0) || release.policy?.recall) {
    throw new NotsotufError('INVALID_ARGUMENT', `${good.normalized} is itself recalled.`, {
      hint: 'Recall to a release that is not recalled.',
    });
  }
}

/**
 * The draft that applies `change` to the releases `target` names.
 * @throws RELEASE_NOT_FOUND, INVALID_ARGUMENT (a bad policy, a recall to a missing or recalled release).
 */
export function draftPolicyChange(ctx: PublishContext, target: PolicyTarget, change: PolicyChange): Draft {
  const base = ctx.config.config.app_name;
  const app = target.platform ? platformAppName(base, target.platform) : base;
  const releases = groupReleases(targetEntries(ctx.state.targets)).get(app) ?? [];
  const chosen = selectTargets(app, releases, target);
  if (change.kind === 'recall') checkRecall(app, releases, chosen, change.to);
  const updated: TargetFile[] = [];
  for (const release of chosen) {
    const name = release.archive?.name as string;
    const file = ctx.state.targets.signed.targets[name] as TargetFile;
    const custom = file.unrecognizedFields['custom'];
    const parsed = parseTargetCustom(custom, name);
    if (parsed.tarSize === undefined || parsed.tarHash === undefined) {
      throw new NotsotufError('INVALID_ARGUMENT', `${name} was published without notsotuf's tar facts.`, {
        hint: 'Release control needs a release added by notsotuf (a release made by tufup has no place for it).',
        details: { target: name },
      });
    }
    const policy = checkReleasePolicy(applyPolicyChange(parsed.policy ?? {}, change));
    updated.push(withPolicy(file, custom, policy));
  }
  const targets = nextTargets(ctx.state.targets, ctx.config.config.expiration_days.targets, ctx.now, {
    add: updated,
  });
  const versions = chosen.map((r) => r.version.normalized);
  const warnings =
    change.kind === 'unrecall' || change.kind === 'resume'
      ? []
      : tufupPolicyWarnings(
          { tufupLayout: !ctx.state.layout.consistentSnapshot, noTufupClients: false, app },
          `${change.kind} of ${app} ${versions.join(', ')}`,
        );
  return {
    description: `release ${change.kind} ${app} ${versions.join(' ')}`,
    targets,
    newTargetFiles: [],
    removedTargets: [],
    warnings,
  };
}

/** The same entry with `policy` in `custom.tufup.notsotuf` (everything else kept). */
function withPolicy(file: TargetFile, custom: unknown, policy: ReleasePolicy): TargetFile {
  // An entry in an earlier notsotuf shape is moved to the current one first (as every new targets version does).
  const c = (upgradeEarlierCustom(custom) ?? custom) as { user?: unknown; tufup: Record<string, unknown> };
  const notsotuf = { ...(c.tufup['notsotuf'] as Record<string, unknown>) };
  for (const key of POLICY_KEYS) delete notsotuf[key];
  const fields = policyFields(policy);
  return new TargetFile({
    path: file.path,
    length: file.length,
    hashes: file.hashes,
    unrecognizedFields: {
      ...file.unrecognizedFields,
      custom: { user: c.user ?? null, tufup: { ...c.tufup, notsotuf: { ...notsotuf, ...fields } } } as never,
    },
  });
}
