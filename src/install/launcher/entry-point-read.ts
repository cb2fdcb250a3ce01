/**
 * Reading back how an install root's entry point starts the launcher, so that a restart (quit-and-install) starts
 * the app exactly as the entry point does: the same launcher flags (trial limits, `--quiet`), and for a Node entry
 * point the same Node and launcher script.
 *
 * The entry point itself is the record, not a copy kept elsewhere: it is the file users and shortcuts run, so it is
 * by definition how the app starts; there is nothing to keep in sync when an installer rewrites it, it exists
 * before and independently of install.json, and entry points written by earlier notsotuf versions already hold
 * their flags. The entry points are notsotuf's own text (entry-scripts.ts), found by their marker line and read
 * with the inverse of the quoting that wrote them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { parseLauncherArgs } from './run-launcher.js';
import { LAUNCHER_FLAG } from './self-launch.js';

/** The comment every entry point notsotuf writes carries (entry-scripts.ts). */
export const ENTRY_POINT_MARKER = 'Stable entry point written by notsotuf';

/** Entry points are a few hundred bytes; anything larger in the root is not one. */
const MAX_ENTRY_POINT_BYTES = 64 * 1024;

/** How an entry point starts the launcher. */
export type EntryPointCommand =
  /** `<nodePath> <launcherPath> [flags…] <root> -- args` (notsotuf-launch run by Node). */
  | {
      readonly kind: 'node';
      readonly nodePath: string;
      readonly launcherPath: string;
      readonly flags: readonly string[];
    }
  /** `<exe of launcher-exe> --notsotuf-launch [flags…] <root> -- args` (a self-launching app). */
  | { readonly kind: 'self'; readonly flags: readonly string[] };

/** One word of a command line; `literal` when nothing in it is expanded by the shell (no variable). */
interface Word {
  readonly text: string;
  readonly literal: boolean;
}

/** The words of a POSIX shell command as shellQuote wrote them (a double-quoted part is kept as written). */
function posixWords(line: string): Word[] | undefined {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let text = '';
    let literal = true;
    while (i < line.length && line[i] !== ' ') {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const end = line.indexOf(c, i + 1);
        if (end < 0) return undefined;
        if (c === '"') literal = false;
        text += c === "'" ? line.slice(i + 1, end) : line.slice(i, end + 1);
        i = end + 1;
      } else if (c === '\\') {
        text += line[i + 1] ?? '';
        i += 2;
      } else {
        if (c === '$' || c === '`') literal = false;
        text += c;
        i++;
      }
    }
    words.push({ text, literal });
  }
  return words;
}

/** The words of a .cmd command line as cmdQuote wrote them (`"…"` with `%%` for a literal `%`). */
function cmdWords(line: string): Word[] | undefined {
  const words: Word[] = [];
  const re = /\s*(?:"([^"]*)"|(\S+))/y;
  let rest = line.trimEnd();
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) return undefined;
    const raw = m[1] ?? m[2]!;
    // A single % starts a variable (%root%); cmdQuote doubles every literal one.
    words.push({ text: raw.replaceAll('%%', '%'), literal: !raw.replaceAll('%%', '').includes('%') });
    rest = rest.slice(m[0].length);
  }
  return words;
}

/**
 * How the text of an entry point notsotuf wrote starts the launcher; undefined when it has no such command line,
 * its flags are not the launcher's, or (for a Node entry point) its paths are not plain words. Pure.
 */
export function parseEntryPoint(text: string): EntryPointCommand | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    let words: Word[] | undefined;
    if (line.startsWith('exec ') && line.endsWith(' -- "$@"')) {
      words = posixWords(line.slice('exec '.length, -' -- "$@"'.length));
    } else if (line.endsWith(' -- %*')) {
      words = cmdWords(line.slice(0, -' -- %*'.length));
    } else continue;
    if (words === undefined || words.length < 3) return undefined;
    const self = words[1]!.text === LAUNCHER_FLAG;
    const flagWords = words.slice(2, -1);
    if (!flagWords.every((w) => w.literal)) return undefined;
    const flags = flagWords.map((w) => w.text);
    // The flags must be ones the launcher takes, exactly as it would read them before the root.
    if (parseLauncherArgs([...flags, words.at(-1)!.text]).kind !== 'run') return undefined;
    if (self) return { kind: 'self', flags };
    // The self-launching script names its executable through variables; a Node one names plain paths.
    if (!words.every((w) => w.literal)) return undefined;
    return { kind: 'node', nodePath: words[0]!.text, launcherPath: words[1]!.text, flags };
  }
  return undefined;
}

/** The text of `path` when it is a small regular file, else undefined. */
function readSmallFile(path: string): string | undefined {
  try {
    const info = statSync(path);
    if (!info.isFile() || info.size > MAX_ENTRY_POINT_BYTES) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function unreadable(path: string, explicit: boolean): NotsotufError {
  return new NotsotufError(
    'INVALID_ARGUMENT',
    `${path} does not start notsotuf-launch in a way notsotuf can read back, so a restart cannot start the app ` +
      'as it does.',
    {
      path,
      hint: explicit
        ? 'Pass the entry point that writeEntryPoint wrote (the file users start), or write it again with writeEntryPoint.'
        : 'Write the entry point again with writeEntryPoint (it must not be edited by hand), or pass ' +
          'restart({ entryPoint }) naming the entry point users start.',
    },
  );
}

export interface FindEntryPointOptions {
  /** The entry point's path, when the caller knows it. It must be one notsotuf wrote. */
  readonly entryPoint?: string;
  /** The name writeEntryPoint was given: `<root>/<appName>` (`.cmd` on Windows) is looked at first. */
  readonly appName?: string;
  /** Which kind is looked at first; default the host's. */
  readonly platform?: NodeJS.Platform;
}

/**
 * The entry point of `root` and how it starts the launcher: `options.entryPoint`, else `<root>/<appName>` (or
 * `.cmd`), else the one entry point notsotuf wrote in the root (found by its marker line). Undefined when the root
 * has none: the app is then started as `notsotuf-launch <root>` does, with the launcher's defaults. Synchronous,
 * for a restart right before the process exits.
 *
 * @throws NotsotufError INVALID_ARGUMENT when the entry point cannot be read back (edited by hand, or a named
 *   entryPoint that is not notsotuf's), or when the root holds several entry points that start the app differently.
 */
export function findEntryPointSync(
  root: string,
  options: FindEntryPointOptions = {},
): { readonly path: string; readonly command: EntryPointCommand } | undefined {
  if (options.entryPoint !== undefined) {
    const text = readSmallFile(options.entryPoint);
    const command = text === undefined ? undefined : parseEntryPoint(text);
    if (command === undefined) throw unreadable(options.entryPoint, true);
    return { path: options.entryPoint, command };
  }
  const read = (path: string) => {
    const text = readSmallFile(path);
    if (text === undefined || !text.includes(ENTRY_POINT_MARKER)) return undefined;
    const command = parseEntryPoint(text);
    if (command === undefined) throw unreadable(path, false);
    return { path, command };
  };
  if (options.appName !== undefined) {
    const windows = (options.platform ?? process.platform) === 'win32';
    const names = windows
      ? [`${options.appName}.cmd`, options.appName]
      : [options.appName, `${options.appName}.cmd`];
    for (const name of names) {
      const found = read(join(root, name));
      if (found) return found;
    }
  }
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return undefined;
  }
  const found = names.flatMap((name) => read(join(root, name)) ?? []);
  const distinct = new Set(found.map((f) => JSON.stringify(f.command)));
  if (distinct.size > 1) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `${root} holds entry points that start the app differently (${found.map((f) => f.path).join(', ')}).`,
      {
        path: root,
        hint: 'Pass restart({ entryPoint }) naming the one users start, or remove the others.',
      },
    );
  }
  return found[0];
}
