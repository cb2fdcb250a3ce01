#!/usr/bin/env node
/**
 * `notsotuf-launch [--confirm-within <seconds>] [--max-launches <n>] [--quiet] <install-root> [-- app args…]`: the
 * stable entry point of a versioned install (see run-launcher.ts); `--help` prints the usage. Exits as the app did:
 * with its exit code, or by the same signal. Other exit codes: 0 after `--help`, 64 for bad usage, 70 when no app
 * could be started (the message says what to do).
 */
import { exitLike } from './exit-like.js';
import { runLauncher } from './run-launcher.js';

exitLike(await runLauncher(process.argv.slice(2)));
