import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { parseMetadata } from '../tuf/metadata.js';
import { moveFile, writeFileAtomic } from '../util/durable-fs.js';
import { type LoadedConfig, parseConfig, serializeConfig } from './config.js';
import type { Draft } from './draft.js';
import type { RepoState } from './state.js';

/**
 * The staging area for multi-party signing: a change whose root or targets metadata lacks signatures waits
 * here (beside the config, never in the published repository) until other key holders add theirs with
 * `notsotuf sign`. Only one change can be staged at a time; other changes are refused until it is finished
 * or discarded, so the staged versions stay the next ones.
 */
export const STAGING_DIR_NAME = 'notsotuf-staged';
const DRAFT_FILE = 'draft.json';

interface StagedFile {
  format: 1;
  description: string;
  created: string;
  /** Versions the change was made against; snapshot/timestamp may move on (refresh) without harm. */
  base: { root: number; targets: number };
  root?: unknown;
  targets?: unknown;
  newTargetFiles: { name: string; sha256: string; file: string }[];
  removedTargets: { name: string; sha256: string }[];
  /** The config as it will be written (its own serialisation keeps the tufup or notsotuf shape). */
  config?: { path: string; text: string };
}

export function stagingDir(config: LoadedConfig): string {
  return join(dirname(config.path), STAGING_DIR_NAME);
}

function baseOf(state: RepoState): StagedFile['base'] {
  return {
    root: state.root.signed.version,
    targets: state.targets.signed.version,
  };
}

/** Whether a staged change exists. */
export async function hasStagedDraft(config: LoadedConfig): Promise<boolean> {
  try {
    await readFile(join(stagingDir(config), DRAFT_FILE));
    return true;
  } catch {
    return false;
  }
}

/** Refuses to start a new change while one is staged. */
export async function assertNothingStaged(config: LoadedConfig): Promise<void> {
  if (await hasStagedDraft(config)) {
    throw new NotsotufError('STAGED_CHANGE_PENDING', 'A change is staged and waiting for more signatures.', {
      path: stagingDir(config),
      hint: 'Finish it with notsotuf sign (by the holders of the missing keys), or drop it with notsotuf sign --discard.',
    });
  }
}

/** Saves a partly signed draft; its new target files move into the staging area. */
export async function saveStagedDraft(config: LoadedConfig, state: RepoState, draft: Draft): Promise<string> {
  const dir = stagingDir(config);
  await mkdir(join(dir, 'files'), { recursive: true });
  const files: StagedFile['newTargetFiles'] = [];
  for (const f of draft.newTargetFiles) {
    const file = join('files', `${f.sha256}.${f.name}`);
    await moveFile(f.tempPath, join(dir, file));
    files.push({ name: f.name, sha256: f.sha256, file });
  }
  const staged: StagedFile = {
    format: 1,
    description: draft.description,
    created: new Date().toISOString(),
    base: baseOf(state),
    ...(draft.root ? { root: draft.root.toJSON() } : {}),
    ...(draft.targets ? { targets: draft.targets.toJSON() } : {}),
    newTargetFiles: files,
    removedTargets: draft.removedTargets,
    ...(draft.config ? { config: { path: draft.config.path, text: serializeConfig(draft.config) } } : {}),
  };
  await writeFileAtomic(join(dir, DRAFT_FILE), `${JSON.stringify(staged, null, 2)}\n`);
  return dir;
}

/** Loads the staged draft, checking it still applies to the repository as it is now. */
export async function loadStagedDraft(config: LoadedConfig, state: RepoState): Promise<Draft> {
  const dir = stagingDir(config);
  let staged: StagedFile;
  try {
    staged = JSON.parse(await readFile(join(dir, DRAFT_FILE), 'utf8')) as StagedFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotsotufError('NOTHING_STAGED', 'No change is staged.', {
        path: dir,
        hint: 'Changes are staged with --stage when the keys at hand cannot meet a threshold.',
      });
    }
    throw new NotsotufError('METADATA_INVALID', `The staged change in ${dir} cannot be read.`, {
      path: dir,
      cause: err,
      hint: 'Discard it with notsotuf sign --discard and make the change again.',
    });
  }
  const base = baseOf(state);
  if (staged.format !== 1 || JSON.stringify(staged.base) !== JSON.stringify(base)) {
    throw new NotsotufError(
      'STAGED_CHANGE_PENDING',
      'The staged change was made against another state of the repository.',
      {
        path: dir,
        hint: 'Discard it with notsotuf sign --discard and make the change again.',
        details: { staged: staged.base, current: base },
      },
    );
  }
  const loadedConfig = staged.config
    ? parseConfig(JSON.parse(staged.config.text), staged.config.path)
    : undefined;
  return {
    description: staged.description,
    ...(staged.root ? { root: parseMetadata('root', staged.root, join(dir, DRAFT_FILE)) } : {}),
    ...(staged.targets ? { targets: parseMetadata('targets', staged.targets, join(dir, DRAFT_FILE)) } : {}),
    newTargetFiles: staged.newTargetFiles.map((f) => ({
      name: f.name,
      sha256: f.sha256,
      tempPath: join(dir, f.file),
    })),
    removedTargets: staged.removedTargets,
    ...(loadedConfig ? { config: loadedConfig } : {}),
  };
}

/** Drops the staged change and its files. */
export async function discardStagedDraft(config: LoadedConfig): Promise<void> {
  await rm(stagingDir(config), { recursive: true, force: true });
}
