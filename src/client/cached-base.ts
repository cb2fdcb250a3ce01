/**
 * The cached archive of the installed version, checked as the base of a patch chain (moved unchanged from
 * `client.ts`; the check itself is `inspectCachedArchive` in `rebuild.ts`). The last result is remembered so that
 * the download right after a check does not decompress and hash the base again.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Release } from '../core/releases.js';
import type { Version } from '../core/version.js';
import { type ClientContext, maxTarSizeOf, timed } from './client-context.js';
import { cachedArchiveFacts } from './plan/plan-update.js';
import { inspectCachedArchive, inspectCachedTar } from './rebuild.js';

export type InspectedBase = Awaited<ReturnType<typeof inspectCachedArchive>>;

export class CachedBase {
  readonly #ctx: ClientContext;
  /**
   * The cached base inspected by the last plan, and the files it was, so that the download right after a check
   * does not decompress or hash it again (183 MB: about 2 s here). Reused only while neither file changed.
   */
  #inspectedBase:
    | {
        key: string;
        inspected: InspectedBase;
      }
    | undefined;

  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /** Forgets the remembered result (a new check starts from the files as they are). */
  forget(): void {
    this.#inspectedBase = undefined;
  }

  /**
   * Checks the cached archive of `current` against the signed facts of `releases`; warns when it does not match
   * (it is then not used).
   */
  async inspect(
    releases: readonly Release[],
    current: Version,
    signal?: AbortSignal,
  ): Promise<InspectedBase> {
    const { options, cache, emit } = this.#ctx;
    let inspected: InspectedBase;
    // The kept verified tar when there is one (hashed in place), else an installer's .tar.gz (decompressed).
    const keptTar = await cache.findBaseTar(options.appName, current);
    const cached = keptTar ?? (await cache.findArchive(options.appName, current));
    const tarPath = keptTar ?? join(cache.workDir, `base-${current.normalized}.tar`);
    const facts = cachedArchiveFacts(releases, current);
    const key = await fileKey([cached, tarPath], facts);
    const memo = this.#inspectedBase;
    if (memo && key !== undefined && memo.key === key) inspected = memo.inspected;
    else {
      this.#inspectedBase = undefined;
      if (!keptTar) await rm(tarPath, { force: true });
      inspected = await timed(emit, 'inspect-base', () =>
        keptTar
          ? inspectCachedTar(keptTar, facts, signal)
          : inspectCachedArchive(cached, facts, tarPath, maxTarSizeOf(options), signal),
      );
      const after = await fileKey([cached, tarPath], facts);
      if (after !== undefined) this.#inspectedBase = { key: after, inspected };
    }
    if (inspected.state === 'mismatch') {
      emit('warning', {
        message:
          'The cached archive of the installed version does not match the metadata; it will not be used.',
      });
    }
    return inspected;
  }
}

/**
 * Identifies the current content of `paths` (size and modification time of each; undefined for a missing one)
 * together with the signed facts they were checked against. undefined when a path is not given.
 */
async function fileKey(paths: readonly (string | undefined)[], facts: unknown): Promise<string | undefined> {
  const parts: unknown[] = [facts];
  for (const path of paths) {
    if (path === undefined) return undefined;
    const s = await stat(path).catch(() => undefined);
    parts.push(path, s ? [s.size, s.mtimeMs, s.ino] : null);
  }
  return JSON.stringify(parts);
}
