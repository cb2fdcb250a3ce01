/**
 * The command line that starts a version's entry. Pure: no file-system access.
 *
 * A `.js`, `.mjs` or `.cjs` entry is a Node script, run by `nodePath` (the launcher's own Node by default), so a
 * Node app ships as plain scripts with no executable bit or shebang to get right on every platform. Anything else is
 * executed directly: a native binary, or a script with a shebang and its executable bit set.
 */
import { join } from 'node:path';
import { versionDir } from '../versioned/index.js';

const NODE_SCRIPT_RE = /\.(?:js|mjs|cjs)$/i;

export interface EntryCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** `entry` must have passed `isEntryPath`; it is a posix path, joined part by part for the host platform. */
export function entryCommand(
  root: string,
  version: string,
  entry: string,
  args: readonly string[],
  nodePath: string,
): EntryCommand {
  const file = join(versionDir(root, version), ...entry.split('/'));
  return NODE_SCRIPT_RE.test(entry) ? { command: nodePath, args: [file, ...args] } : { command: file, args };
}
