import {
  Key,
  type Metadata,
  MetaFile,
  type Root,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { upgradeEarlierCustom } from '../core/custom-metadata.js';
import { NotsotufError } from '../core/errors.js';
import { expiryInDays } from '../tuf/expiry.js';
import {
  type AnyMetadata,
  clearSignatures,
  parseMetadata,
  type RoleName,
  SPEC_VERSION,
  serializeMetadata,
  sha256Hex,
} from '../tuf/metadata.js';
import type { LoadedConfig } from './config.js';

/** A target file made by this change, waiting in a temp file until the change is committed. */
export interface NewTargetFile {
  readonly name: string;
  readonly sha256: string;
  readonly tempPath: string;
}

/**
 * A change to the repository before it is signed and written: a new root and/or targets version, the target
 * files it adds and removes, and the config it implies. Snapshot and timestamp are derived at publish time
 * (they must describe the final, fully signed targets bytes).
 */
export interface Draft {
  readonly description: string;
  root?: Metadata<Root>;
  targets?: Metadata<Targets>;
  readonly newTargetFiles: NewTargetFile[];
  /** Target names whose files go away with this change. */
  readonly removedTargets: { name: string; sha256: string }[];
  config?: LoadedConfig;
  /** What the change means for clients, when less than intended (e.g. tufup clients after a gap in the chain). */
  readonly warnings?: readonly string[];
}

/** Same metadata, next version, new expiry, no signatures: the start of every change. */
export function nextVersion<T extends Root | Targets>(
  role: 'root' | 'targets',
  current: Metadata<T>,
  days: number,
  now: Date,
  edit?: (signed: Record<string, unknown>) => void,
): Metadata<T> {
  // A deep copy: @tufjs/models' toJSON shares arrays (role keyids) with the loaded object, which must stay as is.
  const json = JSON.parse(JSON.stringify(current.toJSON())) as {
    signed: Record<string, unknown>;
    signatures: unknown[];
  };
  json.signed['version'] = current.signed.version + 1;
  json.signed['expires'] = expiryInDays(days, now);
  json.signatures = [];
  edit?.(json.signed);
  const md = parseMetadata(role, json, `new ${role}`) as unknown as Metadata<T>;
  clearSignatures(md as unknown as AnyMetadata);
  return md;
}

/**
 * A new targets version with `add` set and `remove` deleted. Entries in the `custom` shape of earlier notsotuf
 * versions are moved to the current one on the way, so every re-signing repairs them for tufup clients.
 */
export function nextTargets(
  current: Metadata<Targets>,
  days: number,
  now: Date,
  change: { add?: readonly TargetFile[]; remove?: readonly string[] },
): Metadata<Targets> {
  const md = nextVersion('targets', current, days, now);
  for (const name of change.remove ?? []) delete md.signed.targets[name];
  for (const file of Object.values(md.signed.targets)) {
    const custom = upgradeEarlierCustom(file.unrecognizedFields['custom']);
    if (custom) {
      md.signed.addTarget(
        new TargetFile({
          path: file.path,
          length: file.length,
          hashes: file.hashes,
          unrecognizedFields: { ...file.unrecognizedFields, custom: custom as never },
        }),
      );
    }
  }
  for (const file of change.add ?? []) md.signed.addTarget(file);
  return md;
}

/** A new snapshot listing `targets` by version, length and sha256. */
export function buildSnapshot(
  version: number,
  days: number,
  now: Date,
  targets: Metadata<Targets>,
): Metadata<Snapshot> {
  const bytes = serializeMetadata(targets);
  const signed = new Snapshot({
    version,
    specVersion: SPEC_VERSION,
    expires: expiryInDays(days, now),
    meta: {
      'targets.json': new MetaFile({
        version: targets.signed.version,
        length: bytes.length,
        hashes: { sha256: sha256Hex(bytes) },
      }),
    },
  });
  return parseMetadata('snapshot', { signed: signed.toJSON(), signatures: [] }, 'new snapshot');
}

/** A new timestamp naming `snapshot` by version, length and sha256. */
export function buildTimestamp(
  version: number,
  days: number,
  now: Date,
  snapshot: Metadata<Snapshot>,
): Metadata<Timestamp> {
  const bytes = serializeMetadata(snapshot);
  const signed = new Timestamp({
    version,
    specVersion: SPEC_VERSION,
    expires: expiryInDays(days, now),
    snapshotMeta: new MetaFile({
      version: snapshot.signed.version,
      length: bytes.length,
      hashes: { sha256: sha256Hex(bytes) },
    }),
  });
  return parseMetadata('timestamp', { signed: signed.toJSON(), signatures: [] }, 'new timestamp');
}

/** The first targets, empty, at version 1. */
export function buildInitialTargets(days: number, now: Date): Metadata<Targets> {
  const signed = new Targets({ version: 1, specVersion: SPEC_VERSION, expires: expiryInDays(days, now) });
  return parseMetadata('targets', { signed: signed.toJSON(), signatures: [] }, 'new targets');
}

/** Public key as root.json lists it (without keyid_hash_algorithms; see tufup-format.md). */
export function rootKey(keyid: string, publicHex: string): Key {
  return new Key({ keyID: keyid, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: publicHex } });
}

/** Edits the role definitions of a root JSON `signed` object. Keys no role uses any more are dropped. */
export function editRoles(
  signed: Record<string, unknown>,
  edit: (
    roles: Record<RoleName, { keyids: string[]; threshold: number }>,
    keys: Record<string, unknown>,
  ) => void,
): void {
  const roles = signed['roles'] as Record<RoleName, { keyids: string[]; threshold: number }>;
  const keys = signed['keys'] as Record<string, unknown>;
  edit(roles, keys);
  const used = new Set(Object.values(roles).flatMap((r) => r.keyids));
  for (const keyid of Object.keys(keys)) if (!used.has(keyid)) delete keys[keyid];
  for (const [role, def] of Object.entries(roles)) {
    if (def.keyids.length < def.threshold) {
      throw new NotsotufError(
        'THRESHOLD_INVALID',
        `Role ${role} would have ${def.keyids.length} key(s) but needs ${def.threshold} signature(s).`,
        {
          hint: `Add keys first, or lower the threshold with notsotuf threshold set ${role} <n>.`,
          details: { role },
        },
      );
    }
  }
}

/** The role definitions of a root as plain data, for comparisons. */
export function roleDefinition(root: Root, role: RoleName): { keyids: string[]; threshold: number } {
  const def = root.roles[role];
  if (!def) throw new NotsotufError('METADATA_INVALID', `root.json defines no ${role} role.`);
  return { keyids: [...def.keyIDs].sort(), threshold: def.threshold };
}

/** True when a role's keys or threshold differ between two roots (its metadata must then be re-signed). */
export function roleChanged(a: Root, b: Root, role: RoleName): boolean {
  return JSON.stringify(roleDefinition(a, role)) !== JSON.stringify(roleDefinition(b, role));
}
