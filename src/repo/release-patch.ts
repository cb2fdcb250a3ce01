import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TargetFile } from '@tufjs/models';
import { gunzipToFile } from '../archive/index.js';
import { buildPatchCustom } from '../core/custom-metadata.js';
import { NotsotufError } from '../core/errors.js';
import type { Release } from '../core/releases.js';
import { formatTargetName } from '../core/target-name.js';
import type { Version } from '../core/version.js';
import type { PatchProgress } from '../patch/codec.js';
import { createPatchFile } from '../patch/registry.js';
import { tempPathFor } from '../util/durable-fs.js';
import { digestsEqual, hashFile } from '../util/hash-file.js';
import type { NewTargetFile } from './draft.js';
import type { RepoLayout } from './layout.js';

export interface ReleasePatchInput {
  readonly layout: RepoLayout;
  readonly app: string;
  readonly version: Version;
  /** The release before the new one (its archive is the patch base). */
  readonly previous: Release;
  /** The new archive (a temp file) and the size/sha256 of the tar inside it. */
  readonly newArchivePath: string;
  readonly newTar: { size: number; sha256: string };
  readonly codec: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PatchProgress) => void;
}

/**
 * Makes the patch from the previous release to the new one, between the uncompressed tars (as tufup does: a
 * patch over gzip output would be as large as the archive). The previous archive is checked against the signed
 * metadata first, so a damaged or swapped file in `targets/` can never become the base clients patch from.
 */
export async function makeReleasePatch(
  input: ReleasePatchInput,
): Promise<{ target: TargetFile; file: NewTargetFile; codec: string }> {
  const prev = input.previous.archive!;
  const prevPath = input.layout.targetPath(prev.name, prev.sha256 ?? '');
  const found = await hashFile(prevPath).catch((err: unknown) => {
    throw new NotsotufError(
      'TARGET_FILE_MISSING',
      `The previous archive ${prev.name} is not in ${input.layout.targetsDir}.`,
      {
        path: prevPath,
        cause: err,
        hint: 'Bring it back from where the repository is published with `notsotuf pull --from <destination>` (it downloads the latest archive), or pass --skip-patch to publish without a patch.',
      },
    );
  });
  if (found.size !== prev.length || !prev.sha256 || !digestsEqual(found.sha256, prev.sha256)) {
    throw new NotsotufError(
      'TARGET_FILE_MISMATCH',
      `${prevPath} does not match its signed length and hash.`,
      {
        path: prevPath,
        hint: 'Restore the file from the published repository, or pass --skip-patch.',
      },
    );
  }
  const work = await mkdtemp(join(input.layout.repoDir, '.notsotuf-work-'));
  const name = formatTargetName(input.app, input.version, 'patch');
  const patchTemp = tempPathFor(join(input.layout.targetsDir, name));
  try {
    const oldTar = join(work, 'old.tar');
    const newTar = join(work, 'new.tar');
    await gunzipToFile(prevPath, oldTar, input.signal ? { signal: input.signal } : {});
    const rebuilt = await gunzipToFile(input.newArchivePath, newTar, {
      maxSize: input.newTar.size,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (rebuilt.size !== input.newTar.size || !digestsEqual(rebuilt.sha256, input.newTar.sha256)) {
      throw new NotsotufError(
        'TARGET_FILE_MISMATCH',
        'The new archive changed while the patch was being made.',
        {
          hint: 'Run the command again.',
        },
      );
    }
    const patch = await createPatchFile({
      codec: input.codec,
      oldPath: oldTar,
      newPath: newTar,
      outPath: patchTemp,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    });
    const custom = buildPatchCustom({
      tarSize: input.newTar.size,
      tarHash: input.newTar.sha256,
      codec: patch.codec,
    });
    const target = new TargetFile({
      path: name,
      length: (await stat(patchTemp)).size,
      hashes: { sha256: patch.sha256 },
      unrecognizedFields: { custom: custom as never },
    });
    return { target, file: { name, sha256: patch.sha256, tempPath: patchTemp }, codec: patch.codec };
  } catch (err) {
    await rm(patchTemp, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
