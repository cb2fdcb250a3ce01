import type { Root } from '@tufjs/models';
import { NotsotufError } from '../core/errors.js';
import type { Keystore } from '../tuf/keystore.js';
import {
  type AnyMetadata,
  countSignatures,
  type RoleName,
  serializeMetadata,
  signMetadata,
} from '../tuf/metadata.js';
import { Changeset } from './changeset.js';
import { type LoadedConfig, serializeConfig } from './config.js';
import { buildSnapshot, buildTimestamp, type Draft } from './draft.js';
import type { RepoState } from './state.js';

export interface PublishContext {
  readonly state: RepoState;
  readonly config: LoadedConfig;
  readonly keystore: Keystore;
  readonly now: Date;
}

/** How far one role's new metadata is signed. */
export interface SigningReport {
  readonly role: RoleName;
  readonly version: number;
  /** For a new root: whether this count is against the previous root's rule or the new one's. */
  readonly rule: 'current' | 'previous-root';
  readonly valid: number;
  readonly threshold: number;
  /** Names (or keyids) of authorised keys that have not signed. */
  readonly missing: readonly string[];
}

export interface PublishResult {
  /** Whether the change went to the staging area for more signatures instead of the repository. */
  readonly staged: boolean;
  readonly description: string;
  readonly versions: Partial<Record<RoleName, number>>;
  readonly signing: readonly SigningReport[];
  /** Files written, in order. */
  readonly written: readonly string[];
  readonly removeFailures: readonly string[];
  /** What the change means for clients, when less than intended; the CLI prints them on stderr. */
  readonly warnings: readonly string[];
}

async function signWith(md: AnyMetadata, keyids: Iterable<string>, keystore: Keystore): Promise<void> {
  for (const keyid of new Set(keyids)) {
    const signer = await keystore.signerFor(keyid);
    if (signer) await signMetadata(md, [signer]);
  }
}

async function report(
  root: Root,
  role: RoleName,
  md: AnyMetadata,
  rule: SigningReport['rule'],
  keystore: Keystore,
): Promise<SigningReport> {
  const count = countSignatures(root, role, md);
  const missing: string[] = [];
  for (const keyid of count.authorised) {
    if (count.valid.includes(keyid)) continue;
    missing.push((await keystore.byKeyId(keyid))?.name ?? keyid);
  }
  return {
    role,
    version: md.signed.version,
    rule,
    valid: count.valid.length,
    threshold: count.threshold,
    missing,
  };
}

/**
 * Signs the offline parts of a draft (new root, new targets) with every authorised key available here.
 * A new root needs a threshold of the previous root's keys and of its own (TUF client workflow 5.3.4).
 */
export async function signDraft(ctx: PublishContext, draft: Draft): Promise<SigningReport[]> {
  const reports: SigningReport[] = [];
  const root = draft.root?.signed ?? ctx.state.root.signed;
  if (draft.root) {
    const oldRoot = ctx.state.root.signed;
    await signWith(
      draft.root,
      [...(oldRoot.roles['root']?.keyIDs ?? []), ...(root.roles['root']?.keyIDs ?? [])],
      ctx.keystore,
    );
    reports.push(await report(oldRoot, 'root', draft.root, 'previous-root', ctx.keystore));
    reports.push(await report(root, 'root', draft.root, 'current', ctx.keystore));
  }
  if (draft.targets) {
    await signWith(draft.targets, root.roles['targets']?.keyIDs ?? [], ctx.keystore);
    reports.push(await report(root, 'targets', draft.targets, 'current', ctx.keystore));
  }
  return reports;
}

/** True when every report meets its threshold. */
export function isComplete(reports: readonly SigningReport[]): boolean {
  return reports.every((r) => r.valid >= r.threshold);
}

/** The error for a role that cannot reach its threshold with the keys at hand. */
export function thresholdError(reports: readonly SigningReport[], stageable: boolean): NotsotufError {
  const short = reports.filter((r) => r.valid < r.threshold);
  const what = short
    .map(
      (r) =>
        `${r.role} v${r.version}${r.rule === 'previous-root' ? ' (by the previous root keys)' : ''}: ${r.valid} of ${r.threshold} signatures, missing ${r.missing.join(', ') || 'keys'}`,
    )
    .join('; ');
  return new NotsotufError('THRESHOLD_NOT_MET', `Not enough signatures: ${what}. Nothing was written.`, {
    hint: stageable
      ? 'Pass --keys-dir for the directory that holds the missing private keys, or pass --stage to save the change and let the other key holders add signatures with notsotuf sign.'
      : 'Pass --keys-dir for the directory that holds the online (snapshot/timestamp) private keys.',
    details: { roles: short.map((r) => r.role) },
  });
}

/**
 * Finishes a fully signed draft: derives and signs snapshot and timestamp, then writes everything in the
 * order clients may safely observe (targets files, root, targets, snapshot, timestamp, then config).
 */
export async function publishDraft(
  ctx: PublishContext,
  draft: Draft,
  reports: SigningReport[],
): Promise<PublishResult> {
  const { state, keystore, now } = ctx;
  const config = (draft.config ?? ctx.config).config;
  const root = draft.root ?? state.root;
  const targets = draft.targets ?? state.targets;
  const snapshot = buildSnapshot(
    state.snapshot.signed.version + 1,
    config.expiration_days.snapshot,
    now,
    targets,
  );
  await signWith(snapshot, root.signed.roles['snapshot']?.keyIDs ?? [], keystore);
  const timestamp = buildTimestamp(
    state.timestamp.signed.version + 1,
    config.expiration_days.timestamp,
    now,
    snapshot,
  );
  await signWith(timestamp, root.signed.roles['timestamp']?.keyIDs ?? [], keystore);
  const online = [
    await report(root.signed, 'snapshot', snapshot, 'current', keystore),
    await report(root.signed, 'timestamp', timestamp, 'current', keystore),
  ];
  if (!isComplete(online)) throw thresholdError(online, false);

  const { layout } = state;
  const changes = new Changeset();
  for (const file of draft.newTargetFiles)
    changes.move(file.tempPath, layout.targetPath(file.name, file.sha256));
  const ordered: [RoleName, AnyMetadata | undefined][] = [
    ['root', draft.root],
    ['targets', draft.targets],
    ['snapshot', snapshot],
    ['timestamp', timestamp],
  ];
  const versions: Partial<Record<RoleName, number>> = {};
  for (const [role, md] of ordered) {
    if (!md) continue;
    versions[role] = md.signed.version;
    const bytes = serializeMetadata(md);
    for (const name of layout.metadataFileNames(role, md.signed.version))
      changes.write(layout.metadataPath(name), bytes);
  }
  if (draft.config) changes.write(draft.config.path, serializeConfig(draft.config));
  for (const t of draft.removedTargets) changes.remove(layout.targetPath(t.name, t.sha256));
  const { removeFailures } = await changes.commit();
  return {
    staged: false,
    description: draft.description,
    versions,
    signing: [...reports, ...online],
    written: changes.writtenPaths,
    removeFailures,
    warnings: draft.warnings ?? [],
  };
}
