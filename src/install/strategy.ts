/**
 * How a verified, extracted release gets into the app's install directory. The Client runs one strategy; apps may
 * pass their own (tufup's `install=` hook), and the atomic versioned layout plugs in here as another strategy.
 */

/** One numbered install step, announced before it runs. */
export interface InstallStep {
  readonly index: number;
  readonly total: number;
  readonly title: string;
}

export interface InstallContext {
  /** The new release, extracted and verified, in a staging directory the strategy may move files out of. */
  readonly sourceDir: string;
  /** Where the app lives. */
  readonly installDir: string;
  /** Version being installed, as the repository spells it (e.g. `1.1.0`). */
  readonly version: string;
  readonly signal?: AbortSignal;
  /** Called before each step runs. */
  readonly onStep?: (step: InstallStep) => void;
  /** Non-fatal problems of best-effort steps (cleanup after the point of no return). */
  readonly onWarning?: (message: string, cause?: unknown) => void;
}

/** The app must quit so that a helper process can finish the install (Windows: running files cannot be replaced). */
export interface Handover {
  /** The script the helper runs (kept for support; it logs to `logFile`). */
  readonly scriptPath: string;
  readonly logFile: string;
  /** Starts the detached helper; the app should exit right after so the helper can proceed. */
  start(): Promise<void>;
}

export type InstallOutcome =
  | { readonly kind: 'installed' }
  | { readonly kind: 'handover'; readonly handover: Handover };

export interface InstallStrategy {
  readonly name: string;
  /**
   * Installs `context.sourceDir` into `context.installDir`. On failure it throws a NotsotufError (INSTALL_FAILED,
   * ABORTED, …) and leaves the install directory as it was.
   */
  install(context: InstallContext): Promise<InstallOutcome>;
}
