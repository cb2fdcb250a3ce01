import { NotsotufError } from '../core/errors.js';
import type { KeyEntry } from '../tuf/keystore.js';
import type { RoleName } from '../tuf/metadata.js';
import type { LoadedConfig, RepoConfig } from './config.js';
import { type Draft, editRoles, nextTargets, nextVersion, roleChanged } from './draft.js';
import type { PublishContext } from './publish.js';

type RoleDefs = Record<RoleName, { keyids: string[]; threshold: number }>;

function withConfig(loaded: LoadedConfig, edit: (c: RepoConfig) => Partial<RepoConfig>): LoadedConfig {
  return { ...loaded, config: { ...loaded.config, ...edit(loaded.config) } };
}

/**
 * A root change: root N+1 with edited roles, plus the config that names the keys. When the targets role's
 * keys or threshold change, targets is re-signed too (its old signatures would no longer count); snapshot and
 * timestamp are always re-signed by the publish step.
 */
function draftRootChange(
  ctx: PublishContext,
  description: string,
  edit: (roles: RoleDefs, keys: Record<string, unknown>) => void,
  config: LoadedConfig,
): Draft {
  const days = ctx.config.config.expiration_days;
  const root = nextVersion('root', ctx.state.root, days.root, ctx.now, (signed) => editRoles(signed, edit));
  const draft: Draft = { description, root, newTargetFiles: [], removedTargets: [], config };
  if (roleChanged(ctx.state.root.signed, root.signed, 'targets')) {
    draft.targets = nextTargets(ctx.state.targets, days.targets, ctx.now, {});
  }
  return draft;
}

function publicKeyJson(key: KeyEntry) {
  return { keytype: key.keytype, scheme: key.scheme, keyval: { public: key.publicHex } };
}

/** Adds key `key` to `role`. */
export function draftAddKey(ctx: PublishContext, role: RoleName, key: KeyEntry): Draft {
  const current = ctx.state.root.signed.roles[role]?.keyIDs ?? [];
  if (current.includes(key.keyid)) {
    throw new NotsotufError('INVALID_ARGUMENT', `Key "${key.name}" already signs the ${role} role.`, {
      details: { role, key: key.name },
    });
  }
  const config = withConfig(ctx.config, (c) => ({
    key_map: { ...c.key_map, [role]: [...c.key_map[role], key.name] },
  }));
  return draftRootChange(
    ctx,
    `keys add ${role} ${key.name}`,
    (roles, keys) => {
      keys[key.keyid] = publicKeyJson(key);
      roles[role].keyids.push(key.keyid);
    },
    config,
  );
}

/** Replaces key `oldKey` by `newKey` in every role it signs (tufup's replace_key, but persisted across runs). */
export function draftReplaceKey(
  ctx: PublishContext,
  oldKey: { name: string; keyid: string },
  newKey: KeyEntry,
): Draft {
  const roles = ctx.state.root.signed.roles;
  const using = (Object.keys(roles) as RoleName[]).filter((r) => roles[r]?.keyIDs.includes(oldKey.keyid));
  if (using.length === 0) {
    throw new NotsotufError('KEY_NOT_IN_ROLE', `Key "${oldKey.name}" signs no role in root.json.`, {
      hint: 'See which keys sign which role with notsotuf status.',
      details: { key: oldKey.name },
    });
  }
  if (oldKey.keyid === newKey.keyid) {
    throw new NotsotufError('INVALID_ARGUMENT', 'The new key is the same key as the old one.');
  }
  const config = withConfig(ctx.config, (c) => {
    const map = { ...c.key_map };
    for (const role of using)
      map[role] = [...new Set(map[role].map((n) => (n === oldKey.name ? newKey.name : n)))];
    for (const role of using) if (!map[role].includes(newKey.name)) map[role] = [...map[role], newKey.name];
    return { key_map: map };
  });
  return draftRootChange(
    ctx,
    `keys replace ${oldKey.name} ${newKey.name}`,
    (defs, keys) => {
      keys[newKey.keyid] = publicKeyJson(newKey);
      for (const role of using) {
        defs[role].keyids = [
          ...new Set(defs[role].keyids.map((k) => (k === oldKey.keyid ? newKey.keyid : k))),
        ];
      }
    },
    config,
  );
}

/** Removes key `key` from `role` (the key leaves root.json when no role uses it any more). */
export function draftRevokeKey(
  ctx: PublishContext,
  role: RoleName,
  key: { name: string; keyid: string },
): Draft {
  if (!ctx.state.root.signed.roles[role]?.keyIDs.includes(key.keyid)) {
    throw new NotsotufError('KEY_NOT_IN_ROLE', `Key "${key.name}" does not sign the ${role} role.`, {
      hint: 'See which keys sign which role with notsotuf status.',
      details: { role, key: key.name },
    });
  }
  const config = withConfig(ctx.config, (c) => ({
    key_map: { ...c.key_map, [role]: c.key_map[role].filter((n) => n !== key.name) },
  }));
  return draftRootChange(
    ctx,
    `keys revoke ${role} ${key.name}`,
    (defs) => {
      defs[role].keyids = defs[role].keyids.filter((k) => k !== key.keyid);
    },
    config,
  );
}

/** Sets the signature threshold of `role`. */
export function draftSetThreshold(ctx: PublishContext, role: RoleName, threshold: number): Draft {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new NotsotufError(
      'THRESHOLD_INVALID',
      `A threshold must be a whole number of at least 1, not ${threshold}.`,
      {
        details: { role },
      },
    );
  }
  if (ctx.state.root.signed.roles[role]?.threshold === threshold) {
    throw new NotsotufError('INVALID_ARGUMENT', `The ${role} threshold is already ${threshold}.`, {
      details: { role },
    });
  }
  const config = withConfig(ctx.config, (c) => ({ thresholds: { ...c.thresholds, [role]: threshold } }));
  return draftRootChange(
    ctx,
    `threshold set ${role} ${threshold}`,
    (defs) => {
      defs[role].threshold = threshold;
    },
    config,
  );
}
