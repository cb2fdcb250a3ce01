/**
 * The install root of a first install: claimed only when it is new or empty, and discarded again when the install
 * fails. An installer must never mix its files into a directory that holds someone else's (a wrong path would
 * scatter a release over the user's files, and a rollback could then delete theirs), and must never start a second
 * history over an existing versioned root (its updates are the client's job).
 */
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { hasErrno, removeTree } from '../../util/durable-fs.js';
import { detectInstallLayout } from './detect-layout.js';
import { STATE_FILE } from './layout.js';

/** A root claimed by {@link claimFreshRoot}. */
export interface FreshRoot {
  /** The install root, absolute. */
  readonly root: string;
  /**
   * The topmost directory the claim created (the root, or a parent that did not exist either), removed again by
   * {@link discardFreshRoot}; undefined when the root existed, empty.
   */
  readonly created: string | undefined;
}

/** How many names of a non-empty directory the error shows. */
const SHOWN_NAMES = 5;

function notEmpty(root: string, names: readonly string[]): NotsotufError {
  const shown = names.slice(0, SHOWN_NAMES).join(', ') + (names.length > SHOWN_NAMES ? ', …' : '');
  return new NotsotufError('INSTALL_ROOT_NOT_EMPTY', `${root} is not empty (it holds ${shown}).`, {
    path: root,
    details: { entries: names.slice(0, SHOWN_NAMES), count: names.length },
    hint: 'Name a new or empty directory for the install root: a first install never writes into a directory that holds other files.',
  });
}

/** The names in `root`, or undefined when it does not exist. */
async function listRoot(root: string): Promise<string[] | undefined> {
  const info = await lstat(root).catch((err: unknown) => {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw new NotsotufError('IO_ERROR', `Could not look at ${root}.`, {
      path: root,
      cause: err,
      hint: 'Check that its parent directory is readable by this user.',
    });
  });
  if (info === undefined) return undefined;
  if (!info.isDirectory()) {
    throw new NotsotufError('INSTALL_ROOT_NOT_EMPTY', `${root} exists and is not a directory.`, {
      path: root,
      hint: 'Name a new or empty directory for the install root.',
    });
  }
  return readdir(root).catch((err: unknown) => {
    throw new NotsotufError('IO_ERROR', `Could not list ${root}.`, {
      path: root,
      cause: err,
      hint: `Check that ${root} is readable by this user.`,
    });
  });
}

/** Refuses a versioned root (installed already, or damaged) with its own code, and any other non-empty directory. */
async function refuseUsed(root: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  let layout: Awaited<ReturnType<typeof detectInstallLayout>>;
  try {
    layout = await detectInstallLayout(root);
  } catch (err) {
    // A versioned root whose install.json is damaged or lost: not ours to start over, and not empty either.
    throw new NotsotufError('INSTALL_ROOT_NOT_EMPTY', `${root} is a damaged versioned install root.`, {
      path: root,
      cause: err,
      hint: `Repair it as the cause says (run again with --debug to see it), or move it away and install again; keep its data/ directory.`,
    });
  }
  if (layout.kind === 'versioned') {
    const current = layout.state.current;
    const shown = /\s/.test(root) ? JSON.stringify(root) : root;
    throw new NotsotufError(
      'ALREADY_INSTALLED',
      `${root} is a versioned install root already (${join(root, STATE_FILE)} selects ${current}).`,
      {
        path: root,
        details: { current },
        hint: `Update it instead: notsotuf client update --install-dir ${shown} --current-version ${current} … (or a Client with installDir ${shown}).`,
      },
    );
  }
  throw notEmpty(root, names);
}

/**
 * Claims `root` for a first install: creates it (with its parents) when it does not exist, accepts it when it is an
 * empty directory, and refuses anything else before changing anything.
 *
 * @throws NotsotufError ALREADY_INSTALLED (a versioned install root: update it instead), INSTALL_ROOT_NOT_EMPTY (a
 *   file, a damaged versioned root, or a directory with other files: left untouched), IO_ERROR.
 */
export async function claimFreshRoot(root: string): Promise<FreshRoot> {
  const path = resolve(root);
  const names = await listRoot(path);
  if (names !== undefined) {
    await refuseUsed(path, names);
    return { root: path, created: undefined };
  }
  let created: string | undefined;
  try {
    created = await mkdir(path, { recursive: true });
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not create ${path}.`, {
      path,
      cause: err,
      hint: 'Check that its parent directory is writable by this user, or create the directory first.',
    });
  }
  // Someone else created it between the look and the mkdir: it must pass the same checks.
  if (created === undefined) await refuseUsed(path, (await listRoot(path)) ?? []);
  return { root: path, created };
}

/**
 * Undoes a claim after a failed first install: removes the directories the claim created, or, for a root that
 * existed empty, everything in it (all of it was made by the install). Never touches anything outside.
 *
 * @throws NotsotufError IO_ERROR when something could not be removed (the message names it).
 */
export async function discardFreshRoot(fresh: FreshRoot): Promise<void> {
  const targets =
    fresh.created !== undefined
      ? [fresh.created]
      : ((await readdir(fresh.root).catch(() => [])) as string[]).map((name) => join(fresh.root, name));
  for (const target of targets) {
    await removeTree(target).catch((err: unknown) => {
      throw new NotsotufError('IO_ERROR', `Could not remove ${target} after the failed install.`, {
        path: target,
        cause: err,
        hint: `Remove ${target} by hand before installing again.`,
      });
    });
  }
}
