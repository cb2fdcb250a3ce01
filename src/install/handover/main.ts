#!/usr/bin/env node
/** The hand-over helper's entry for Node apps: `node main.js <plan.json>` (see run-handover.ts). */
import { runHandover } from './run-handover.js';

runHandover(process.argv[2] ?? '').then((code) => {
  process.exitCode = code;
});
