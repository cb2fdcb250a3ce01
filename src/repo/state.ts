import { readdir, readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { type MetadataByRole, parseMetadataBytes, type RoleName } from '../tuf/metadata.js';
import { RepoLayout } from './layout.js';

/** The current metadata of a repository directory, as a client would resolve it. */
export interface RepoState extends MetadataByRole {
  readonly layout: RepoLayout;
  /** Every `N.root.json` version present on disk, ascending. */
  readonly rootVersions: readonly number[];
}

async function readMetadataFile<R extends RoleName>(layout: RepoLayout, role: R, name: string) {
  const path = layout.metadataPath(name);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotsotufError('METADATA_NOT_FOUND', `The repository has no ${name}.`, {
        path,
        cause: err,
        hint: 'Restore the metadata directory from the published copy with `notsotuf pull --from <destination>`, or from a backup.',
        details: { role },
      });
    }
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, { path, cause: err });
  }
  return parseMetadataBytes(role, bytes, path);
}

/** Loads root → timestamp → snapshot → targets from `repoDir`, following the versions each one names. */
export async function loadRepoState(repoDir: string): Promise<RepoState> {
  const probe = new RepoLayout(repoDir, false);
  let names: string[];
  try {
    names = await readdir(probe.metadataDir);
  } catch (err) {
    throw new NotsotufError('REPO_NOT_INITIALIZED', `No repository metadata in ${probe.metadataDir}.`, {
      path: probe.metadataDir,
      cause: err,
      hint: 'Run notsotuf init first, or point --config at the right repository.',
    });
  }
  if (!names.includes('root.json')) {
    throw new NotsotufError('REPO_NOT_INITIALIZED', `No root.json in ${probe.metadataDir}.`, {
      path: probe.metadataDir,
      hint: 'Run notsotuf init first, or restore metadata/root.json from N.root.json.',
    });
  }
  const rootVersions = names
    .map((n) => /^([1-9]\d*)\.root\.json$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const root = await readMetadataFile(probe, 'root', 'root.json');
  const layout = new RepoLayout(repoDir, root.signed.consistentSnapshot);
  const timestamp = await readMetadataFile(layout, 'timestamp', 'timestamp.json');
  const snapshotVersion = timestamp.signed.snapshotMeta.version;
  const snapshot = await readMetadataFile(
    layout,
    'snapshot',
    layout.metadataReadName('snapshot', snapshotVersion),
  );
  if (snapshot.signed.version !== snapshotVersion) {
    throw new NotsotufError(
      'METADATA_INVALID',
      `timestamp.json names snapshot ${snapshotVersion}, found ${snapshot.signed.version}.`,
      {
        hint: 'The metadata directory is inconsistent; restore it from the published copy.',
      },
    );
  }
  const targetsMeta = snapshot.signed.meta['targets.json'];
  if (!targetsMeta) {
    throw new NotsotufError('METADATA_INVALID', 'snapshot.json does not list targets.json.', {
      hint: 'The metadata directory is inconsistent; restore it from the published copy.',
    });
  }
  const targets = await readMetadataFile(
    layout,
    'targets',
    layout.metadataReadName('targets', targetsMeta.version),
  );
  if (targets.signed.version !== targetsMeta.version) {
    throw new NotsotufError(
      'METADATA_INVALID',
      `snapshot.json names targets ${targetsMeta.version}, found ${targets.signed.version}.`,
      {
        hint: 'The metadata directory is inconsistent; restore it from the published copy.',
      },
    );
  }
  return { layout, root, timestamp, snapshot, targets, rootVersions };
}
