/**
 * Quoting for the Windows hand-over: values go into PowerShell as single-quoted literals (no expansion of `$`,
 * backticks or subexpressions), and command lines follow the rules of CommandLineToArgvW, which most Windows
 * programs (and .NET) use to split their command line. Pure string work.
 */
import { NotsotufError } from '../core/errors.js';

/**
 * A PowerShell single-quoted string literal for `value`. Inside one, only a quote character is special, and it is
 * escaped by doubling. PowerShell also takes the typographic quotes U+2018, U+2019, U+201A and U+201B as single
 * quotes, so those are doubled too (as PowerShell's own CodeGeneration.EscapeSingleQuotedStringContent does);
 * missing them would let a path such as `C:\x’; Remove-Item …` end the literal early.
 * @throws NotsotufError INVALID_ARGUMENT for a value holding a NUL character (never part of a Windows path).
 */
export function powerShellLiteral(value: string): string {
  if (value.includes('\0')) {
    throw new NotsotufError('INVALID_ARGUMENT', 'A value for the hand-over script holds a NUL character.', {
      hint: 'Pass real paths and arguments.',
    });
  }
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
}

/**
 * One argument quoted for a Windows command line (CommandLineToArgvW rules): left bare when it has no space, tab
 * or quote; otherwise wrapped in quotes, with each quote escaped by a backslash and the backslashes before a quote
 * (or before the closing quote) doubled.
 */
export function windowsCommandLineArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    out += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/** A whole command line's arguments, each quoted by {@link windowsCommandLineArg}. */
export function windowsCommandLine(args: readonly string[]): string {
  return args.map(windowsCommandLineArg).join(' ');
}
