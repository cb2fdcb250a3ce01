/** Shared by the versioned-layout tests: release trees, an install helper that records steps and warnings. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type InstallContext,
  type InstallStep,
  type VersionedOptions,
  versionedStrategy,
} from '../../../src/install/index.js';
import { buildTree, type Snapshot, snapshot, type TreeSpec } from '../helpers.js';

/** A release with an executable entry, modes, a read-only dir, symlinks (one dangling) and nested dirs. */
export function releaseSpec(version: string): TreeSpec {
  return {
    bin: { dir: true },
    'bin/app': { file: `#!/bin/sh\necho ${version}\n`, mode: 0o755 },
    'bin/app-link': { link: 'app' },
    'lib/core.so': `core library ${version}`,
    'lib/private': { dir: true, mode: 0o750 },
    'lib/private/key.pem': { file: `key ${version}`, mode: 0o600 },
    'read-only': { dir: true, mode: 0o555 },
    'read-only/file.txt': { file: 'read only', mode: 0o444 },
    dangling: { link: 'no-such-file' },
    [`only-in-${version}.txt`]: version,
  };
}

/** Builds `<base>/releases/<version>` and returns its path and snapshot. */
export async function makeRelease(
  base: string,
  version: string,
  spec: TreeSpec = releaseSpec(version),
): Promise<{ dir: string; tree: Snapshot }> {
  const dir = join(base, 'releases', version);
  await buildTree(dir, spec);
  return { dir, tree: await snapshot(dir) };
}

/** An existing, empty install root with the app's own data in `data/`. */
export async function makeRoot(base: string): Promise<string> {
  const root = join(base, 'root');
  await mkdir(join(root, 'data'), { recursive: true });
  await writeFile(join(root, 'data', 'user.db'), 'user data');
  return root;
}

export interface InstallRun {
  readonly steps: InstallStep[];
  readonly warnings: string[];
}

/** Runs the versioned strategy; `context` may add onStep (called after recording) or a signal. */
export async function installVersion(
  root: string,
  sourceDir: string,
  version: string,
  options: Partial<VersionedOptions> = {},
  context: Partial<InstallContext> = {},
): Promise<InstallRun> {
  const steps: InstallStep[] = [];
  const warnings: string[] = [];
  await versionedStrategy({ entry: 'bin/app', ...options }).install({
    sourceDir,
    installDir: root,
    version,
    onWarning: (message) => warnings.push(message),
    ...context,
    onStep: (step) => {
      steps.push(step);
      context.onStep?.(step);
    },
  });
  return { steps, warnings };
}
