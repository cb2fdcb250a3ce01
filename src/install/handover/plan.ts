/**
 * The hand-over plan: everything the helper process needs to finish an in-place install after the app has quit,
 * as one JSON file written beside the helper's log. The helper trusts nothing else (no arguments beyond the plan's
 * path, no environment), and reads the plan back through the same checks it was written with.
 */
import { NotsotufError } from '../../core/errors.js';
import { createExcludeMatcher } from '../exclude-pattern.js';

/** The app to start once the install is done (or rolled back). */
export interface RestartCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
}

export interface HandoverPlan {
  readonly format: 'notsotuf-handover/1';
  /** The process to wait for (the app). */
  readonly pid: number;
  readonly waitTimeoutSeconds: number;
  /** The extracted, verified release. */
  readonly sourceDir: string;
  readonly installDir: string;
  readonly purge: boolean;
  readonly exclude: readonly string[];
  readonly version: string;
  readonly logFile: string;
  /** How often the whole install is tried again when files are locked (each try rolls back cleanly). */
  readonly retryCount: number;
  readonly retryWaitSeconds: number;
  readonly restart?: RestartCommand;
}

export const HANDOVER_PLAN_FORMAT = 'notsotuf-handover/1';

/** Exit codes of the helper (the PowerShell script's, plus one for a plan the node helper cannot read). */
export const HANDOVER_EXIT = {
  installed: 0,
  rolledBack: 1,
  rollbackFailed: 2,
  appStillRunning: 3,
  badPlan: 4,
} as const;

function invalid(message: string): never {
  throw new NotsotufError('INVALID_ARGUMENT', `Invalid hand-over plan: ${message}.`, {
    hint: 'The hand-over plan is written by notsotuf; install the update again.',
  });
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0'))
    invalid(`${field} must be a non-empty string`);
  return value;
}

function count(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalid(`${field} must be a whole number of at least ${min}`);
  }
  return value;
}

function strings(value: unknown, field: string, allowEmpty: boolean): string[] {
  if (!Array.isArray(value)) invalid(`${field} must be a list of strings`);
  return value.map((v, i) => (allowEmpty && v === '' ? '' : text(v, `${field}[${i}]`)));
}

/**
 * Checks a plan (when written, and again when the helper reads it).
 * @throws NotsotufError INVALID_ARGUMENT naming the bad field.
 */
export function checkHandoverPlan(value: unknown): HandoverPlan {
  if (!isObject(value) || value['format'] !== HANDOVER_PLAN_FORMAT)
    invalid(`format must be ${HANDOVER_PLAN_FORMAT}`);
  const restart = value['restart'];
  if (restart !== undefined && !isObject(restart)) invalid('restart must be an object');
  if (typeof value['purge'] !== 'boolean') invalid('purge must be true or false');
  const exclude = strings(value['exclude'], 'exclude', false);
  createExcludeMatcher(exclude);
  return {
    format: HANDOVER_PLAN_FORMAT,
    pid: count(value['pid'], 'pid', 1),
    waitTimeoutSeconds: count(value['waitTimeoutSeconds'], 'waitTimeoutSeconds', 0),
    sourceDir: text(value['sourceDir'], 'sourceDir'),
    installDir: text(value['installDir'], 'installDir'),
    purge: value['purge'],
    exclude,
    version: text(value['version'], 'version'),
    logFile: text(value['logFile'], 'logFile'),
    retryCount: count(value['retryCount'], 'retryCount', 1),
    retryWaitSeconds: count(value['retryWaitSeconds'], 'retryWaitSeconds', 0),
    ...(restart
      ? {
          restart: {
            command: text(restart['command'], 'restart.command'),
            args: strings(restart['args'] ?? [], 'restart.args', true),
            ...(restart['cwd'] === undefined ? {} : { cwd: text(restart['cwd'], 'restart.cwd') }),
          },
        }
      : {}),
  };
}
