// Child process of crash.test.ts: installs one version and reports each step on stdout (synchronously, so the
// parent sees the line before the step runs), then `done`. The parent kills it with SIGKILL at a chosen step.
import { writeSync } from 'node:fs';
import { versionedStrategy } from '../../../src/install/versioned/install.js';

const [root, sourceDir, version] = process.argv.slice(2) as [string, string, string];
await versionedStrategy({ entry: 'bin/app' }).install({
  sourceDir,
  installDir: root,
  version,
  onStep: (step) => writeSync(1, `step ${step.index}\n`),
});
writeSync(1, 'done\n');
