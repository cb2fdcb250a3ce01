#!/usr/bin/env node
import { CommanderError } from 'commander';
import { wrapForeignError } from '../core/foreign-error.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { buildProgram, packageVersion } from './program.js';
import { printError } from './render.js';

/** The CLI entry: the only place that decides exit codes. */
async function main(argv: string[]): Promise<number> {
  // Handled here, not by commander: `release add --version V` needs the option name for itself.
  if (argv[2] === '--version' || argv[2] === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  const program = await buildProgram(argv.slice(2));
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    // A foreign error that reached this far is an errno error (IO_ERROR), an abort, or a bug (INTERNAL_ERROR).
    const error = wrapForeignError(err, 'The command');
    printError({ json, debug }, error);
    return exitCodeFor(error);
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
