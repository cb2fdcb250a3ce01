import { join } from 'node:path';
import type { RoleName } from '../tuf/metadata.js';

/**
 * Where files live in a repository directory: `metadata/` and `targets/`, as tufup serves them.
 * With consistent snapshots, targets and snapshot metadata are versioned (`N.targets.json`) and target files
 * are stored as `<sha256>.<name>`, so a client mid-update never sees a file change under it.
 */
export class RepoLayout {
  readonly metadataDir: string;
  readonly targetsDir: string;

  constructor(
    readonly repoDir: string,
    readonly consistentSnapshot: boolean,
  ) {
    this.metadataDir = join(repoDir, 'metadata');
    this.targetsDir = join(repoDir, 'targets');
  }

  /** File names written for a role at `version`, in the order they should appear. */
  metadataFileNames(role: RoleName, version: number): string[] {
    if (role === 'root') return [`${version}.root.json`, 'root.json'];
    if (role === 'timestamp') return ['timestamp.json'];
    return this.consistentSnapshot ? [`${version}.${role}.json`, `${role}.json`] : [`${role}.json`];
  }

  /** The file a client reads for a role at `version` (timestamp is never versioned). */
  metadataReadName(role: RoleName, version: number): string {
    if (role === 'timestamp') return 'timestamp.json';
    if (role === 'root') return `${version}.root.json`;
    return this.consistentSnapshot ? `${version}.${role}.json` : `${role}.json`;
  }

  metadataPath(name: string): string {
    return join(this.metadataDir, name);
  }

  /** File name of a target in `targets/`. */
  targetFileName(targetName: string, sha256: string): string {
    return this.consistentSnapshot ? `${sha256}.${targetName}` : targetName;
  }

  targetPath(targetName: string, sha256: string): string {
    return join(this.targetsDir, this.targetFileName(targetName, sha256));
  }
}
