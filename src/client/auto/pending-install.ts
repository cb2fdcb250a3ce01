/**
 * Getting a downloaded update in place for the next launch without changing the running app under it:
 * - versioned layout (an install root with install.json): the update is installed at once into its own version
 *   directory and selected in install.json. The running version's directory is never touched, and the entry point
 *   starts the new version next time.
 * - in-place layout: the running app's files must not change while it runs, so the install is only prepared (the
 *   release extracted and checked, the node hand-over written) and a detached helper finishes it once this process
 *   has exited (see `install/handover/`). The helper is started from the process's `exit` event: `spawn` runs
 *   synchronously there, so the helper exists before the process is gone.
 */
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  detectInstallLayout,
  type Handover,
  type InPlaceOptions,
  type InstallContext,
  type InstallStrategy,
  inPlaceStrategy,
  type RestartCommand,
} from '../../install/index.js';
import type { Client } from '../client.js';

/** What the hand-over was prepared from, to prepare it again (with a restart command). */
type HandoverSource = Pick<InstallContext, 'sourceDir' | 'installDir' | 'version'>;

/** A downloaded update made ready for the next launch. */
export type PreparedUpdate =
  | { readonly kind: 'next-launch'; readonly version: string }
  | {
      readonly kind: 'after-exit';
      readonly version: string;
      readonly handover: Handover;
      /** Absent when the app's own strategy returned the hand-over. */
      readonly source?: HandoverSource;
    };

/** The in-place strategy that only prepares a hand-over, remembering what it prepared it from. */
function afterExitStrategy(options: InPlaceOptions, seen: (source: HandoverSource) => void): InstallStrategy {
  const inner = inPlaceStrategy({ ...options, afterExit: true });
  return {
    name: 'in-place-after-exit',
    install: (context) => {
      seen({ sourceDir: context.sourceDir, installDir: context.installDir, version: context.version });
      return inner.install(context);
    },
  };
}

/**
 * Installs (versioned) or prepares (in place) the update the client downloaded. Throws what `installUpdate`
 * throws (INSTALL_FAILED, ARCHIVE_*, ABORTED, …).
 */
export async function prepareUpdate(
  client: Client,
  inPlace: InPlaceOptions,
  signal?: AbortSignal,
): Promise<PreparedUpdate> {
  const layout = await detectInstallLayout(client.installDir);
  let source: HandoverSource | undefined;
  const result = await client.installUpdate({
    ...(signal ? { signal } : {}),
    // The versioned layout: the client's own choice (versionedStrategy, or the app's installStrategy).
    ...(layout.kind === 'in-place' ? { strategy: afterExitStrategy(inPlace, (s) => (source = s)) } : {}),
  });
  if (result.outcome.kind === 'installed') return { kind: 'next-launch', version: result.version };
  return {
    kind: 'after-exit',
    version: result.version,
    handover: result.outcome.handover,
    ...(source ? { source } : {}),
  };
}

/**
 * The same hand-over, written again with a restart command (the first one is removed, best effort). Throws
 * INSTALL_FAILED when the release or install directory is gone, or the helper cannot be prepared.
 */
export async function withRestart(
  prepared: PreparedUpdate & { kind: 'after-exit' },
  inPlace: InPlaceOptions,
  restart: RestartCommand,
): Promise<Handover> {
  if (!prepared.source) return prepared.handover;
  const strategy = inPlaceStrategy({
    ...inPlace,
    afterExit: true,
    handover: { ...inPlace.handover, restart },
  });
  const outcome = await strategy.install(prepared.source);
  const old = dirname(prepared.handover.scriptPath);
  if (basename(old).startsWith('notsotuf-handover-')) {
    await rm(old, { recursive: true, force: true }).catch(() => undefined);
  }
  return outcome.kind === 'handover' ? outcome.handover : prepared.handover;
}

/**
 * Starts `handover` when this process exits (normally, through `process.exit`, or after an uncaught exception;
 * not when a signal kills it unhandled). Returns the function that cancels it.
 */
export function startOnExit(handover: Handover): () => void {
  const listener = () => {
    try {
      // The helper is spawned synchronously inside start(); its promise can no longer settle in an exiting process.
      handover.start().catch(() => undefined);
    } catch {
      // Nothing can be reported any more: the process is exiting.
    }
  };
  process.once('exit', listener);
  return () => process.off('exit', listener);
}

function isSingleExecutable(): boolean {
  const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() === true;
}

/** The command line that started this process, to start it again after the hand-over. */
export function thisProcessCommand(): RestartCommand {
  // A single-executable app is its own script: argv[1] repeats the executable.
  const args = isSingleExecutable() ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
  return { command: process.execPath, args, cwd: process.cwd() };
}
