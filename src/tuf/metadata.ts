import { createHash } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import {
  Metadata,
  MetadataKind,
  type Root,
  Signature,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { NotsotufError } from '../core/errors.js';
import { parseExpiry } from './expiry.js';
import { isRoleName, ROLE_NAMES, type RoleName } from './role-names.js';
import type { Signer } from './signer.js';

export { isRoleName, ROLE_NAMES, type RoleName };

/** The spec version tufup writes; python-tuf and tuf-js accept any 1.x. */
export const SPEC_VERSION = '1.0.31';

export type AnyMetadata = Metadata<Root> | Metadata<Targets> | Metadata<Snapshot> | Metadata<Timestamp>;
export interface MetadataByRole {
  root: Metadata<Root>;
  targets: Metadata<Targets>;
  snapshot: Metadata<Snapshot>;
  timestamp: Metadata<Timestamp>;
}

const KIND: Record<RoleName, MetadataKind> = {
  root: MetadataKind.Root,
  targets: MetadataKind.Targets,
  snapshot: MetadataKind.Snapshot,
  timestamp: MetadataKind.Timestamp,
};

/**
 * Parses metadata of a given role from its JSON, validating its shape with @tufjs/models and its expiry
 * strictly (the models accept an unparseable date as "never expires").
 */
export function parseMetadata<R extends RoleName>(role: R, json: unknown, source: string): MetadataByRole[R] {
  let md: AnyMetadata;
  try {
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new TypeError('not a JSON object');
    // biome-ignore lint/suspicious/noExplicitAny: the overloads of fromJSON are keyed by a literal kind
    md = Metadata.fromJSON(KIND[role] as any, json as any) as AnyMetadata;
    const version = md.signed.version;
    if (!Number.isSafeInteger(version) || version < 1) throw new TypeError('version must be an integer ≥ 1');
    assertWritesBack(role, json, md);
  } catch (err) {
    throw new NotsotufError('METADATA_INVALID', `${source} is not valid ${role} metadata.`, {
      path: source,
      cause: err,
      hint: 'Metadata files must not be edited by hand. Restore it from a backup or from the published copy.',
      details: { role },
    });
  }
  parseExpiry(md.signed.expires, role);
  return md as MetadataByRole[R];
}

/** Deeper than any real metadata; deep enough nesting would overflow the stack when written back. */
const MAX_JSON_DEPTH = 100;

/** Refuses `__proto__` keys, numbers beyond double range (parsed as ±Infinity) and absurd nesting. */
function checkJsonValues(value: unknown, depth: number): void {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('a number is out of range');
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_JSON_DEPTH) throw new TypeError(`it is nested deeper than ${MAX_JSON_DEPTH} levels`);
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__') throw new TypeError('it has a "__proto__" key');
    checkJsonValues(child, depth + 1);
  }
}

/**
 * What is accepted must be written back unchanged when it is re-signed. Refuses what would not survive: `__proto__`
 * keys (dropped on write), numbers beyond double range (written as null), nesting too deep to write (RangeError).
 */
function assertWritesBack(role: RoleName, json: object, md: AnyMetadata): void {
  checkJsonValues(json, 0);
  const written = serializeMetadata(md);
  // biome-ignore lint/suspicious/noExplicitAny: as in parseMetadata
  const again = Metadata.fromJSON(KIND[role] as any, JSON.parse(written.toString('utf8'))) as AnyMetadata;
  if (!serializeMetadata(again).equals(written))
    throw new TypeError('it does not survive being written back');
}

/** Parses metadata from file bytes. */
export function parseMetadataBytes<R extends RoleName>(
  role: R,
  bytes: Uint8Array,
  source: string,
): MetadataByRole[R] {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new NotsotufError('METADATA_INVALID', `${source} is not valid JSON.`, {
      path: source,
      cause: err,
      hint: 'Metadata files must not be edited by hand. Restore it from a backup or from the published copy.',
      details: { role },
    });
  }
  return parseMetadata(role, json, source);
}

/** Sorts object keys recursively so files are stable and diff-friendly, as python-tuf writes them. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The file bytes of metadata: sorted keys, indent 1, no trailing newline (python-tuf's and tufup's form). */
export function serializeMetadata(md: AnyMetadata): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(md.toJSON()), null, 1), 'utf8');
}

/** The bytes that signatures cover: canonical JSON of `signed`. */
export function signedBytes(md: AnyMetadata): Buffer {
  return Buffer.from(canonicalize(md.signed.toJSON()));
}

/** sha256 hex of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Adds (or replaces) signatures by each signer. Signatures by other keys stay, so several parties can sign
 * the same metadata in turn.
 */
export async function signMetadata(md: AnyMetadata, signers: readonly Signer[]): Promise<void> {
  const bytes = signedBytes(md);
  for (const signer of signers) {
    const sig = await signer.sign(bytes);
    md.signatures[signer.keyid] = new Signature({ keyID: signer.keyid, sig });
  }
}

/** Removes every signature: needed whenever `signed` changes. */
export function clearSignatures(md: AnyMetadata): void {
  for (const keyid of Object.keys(md.signatures)) delete md.signatures[keyid];
}

export interface SignatureCount {
  readonly role: RoleName;
  readonly threshold: number;
  /** Keyids of the role whose signature on `md` verifies. */
  readonly valid: readonly string[];
  /** Keyids authorised for the role. */
  readonly authorised: readonly string[];
}

/** Counts valid signatures of `role`'s keys (as listed in `root`) on `md`, verifying each with @tufjs/models. */
export function countSignatures(root: Root, role: RoleName, md: AnyMetadata): SignatureCount {
  const roleDef = root.roles[role];
  if (!roleDef) {
    throw new NotsotufError('METADATA_INVALID', `root.json defines no ${role} role.`, { details: { role } });
  }
  const valid: string[] = [];
  for (const keyid of new Set(roleDef.keyIDs)) {
    const key = root.keys[keyid];
    if (!key || !md.signatures[keyid]) continue;
    try {
      key.verifySignature(md);
      valid.push(keyid);
    } catch {
      // an invalid or foreign signature simply does not count
    }
  }
  return { role, threshold: roleDef.threshold, valid, authorised: [...roleDef.keyIDs] };
}

/** True when `md` carries at least `threshold` valid signatures of `role` according to `root`. */
export function meetsThreshold(root: Root, role: RoleName, md: AnyMetadata): boolean {
  const count = countSignatures(root, role, md);
  return count.valid.length >= count.threshold;
}

/**
 * The `signed.version` of metadata bytes without verifying anything, or undefined when there is none. Only for
 * comparing which of two copies is newer before the real, verified load (publish and pull refusals).
 */
export function peekVersion(bytes: Uint8Array | undefined): number | undefined {
  if (!bytes) return undefined;
  try {
    const v = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { signed?: { version?: unknown } }).signed
      ?.version;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
