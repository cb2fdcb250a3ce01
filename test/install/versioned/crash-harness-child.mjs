/**
 * Child process of the crash-injection harness: installs one release into an install root with the BUILT
 * versionedStrategy (plain node, no tsx, for a fast start) and can SIGKILL itself at an exact point.
 *
 * argv: <dist/install/index.js URL> <root> <release dir> <version> <kill>, kill being
 *   `none`    install completely;
 *   `op:K`    SIGKILL itself right before its K-th file-system operation, i.e. after operation K-1 completed:
 *             every function of node:fs/promises and every FileHandle method (sync, chmod, close, writeFile…) is
 *             wrapped here, in the child, before dist/ is loaded (syncBuiltinESMExports makes dist's named imports
 *             see the wrappers), so src/ is untouched;
 *   `step:N`  SIGKILL itself when the strategy announces step N (before the step's work).
 * stdout (synchronous writes, so the parent has each line before anything after it happens):
 *   `ready`, `step N ops=C` (C operations done before step N), `kill op K <operation> <paths>`, `done ops=C`.
 * The parent kills it at random times itself, measured from `ready`.
 */
import { writeSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const [distUrl, root, sourceDir, version, kill] = process.argv.slice(2);
const [mode, at] = kill === 'none' ? ['none', 0] : [kill.split(':')[0], Number(kill.split(':')[1])];
const say = (line) => writeSync(1, `${line}\n`);

let ops = 0;
const handlePaths = new WeakMap();

function shown(args) {
  return args
    .filter((a) => typeof a === 'string' && (isAbsolute(a) || a.length <= 8))
    .map((p) => {
      if (!isAbsolute(p)) return p;
      return p.startsWith(root) ? `<root>/${relative(root, p)}` : `<release>/${relative(sourceDir, p)}`;
    })
    .join(' ');
}

/** Counts one operation; in `op` mode, dies right before the chosen one. */
function tick(name, args) {
  ops += 1;
  if (mode === 'op' && ops === at) {
    say(`kill op ${ops} ${name} ${shown(args)}`);
    process.kill(process.pid, 'SIGKILL');
  }
}

// FileHandle's prototype, from a handle opened before anything is wrapped (so it is not counted).
const probe = await fsp.open(fileURLToPath(import.meta.url), 'r');
const handleProto = Object.getPrototypeOf(probe);
await probe.close();

for (const [name, fn] of Object.entries(fsp)) {
  if (typeof fn !== 'function' || name === 'watch') continue;
  fsp[name] = function (...args) {
    tick(name, args);
    const result = fn.apply(this, args);
    if (name !== 'open') return result;
    return result.then((handle) => {
      handlePaths.set(handle, args[0]);
      return handle;
    });
  };
}
const HANDLE_METHODS = ['appendFile', 'chmod', 'chown', 'close', 'datasync', 'read', 'readFile', 'stat'];
for (const name of [...HANDLE_METHODS, 'sync', 'truncate', 'utimes', 'write', 'writeFile', 'writev']) {
  const fn = handleProto[name];
  if (typeof fn !== 'function') continue;
  handleProto[name] = function (...args) {
    tick(`handle.${name}`, [handlePaths.get(this) ?? '?']);
    return fn.apply(this, args);
  };
}
syncBuiltinESMExports();

const { versionedStrategy } = await import(distUrl);
ops = 0; // the module loader's reads (it uses the wrapped readFile) are not the install's
say('ready');
await versionedStrategy({ entry: 'bin/app' }).install({
  sourceDir,
  installDir: root,
  version,
  onStep: (step) => {
    say(`step ${step.index} ops=${ops}`);
    if (mode === 'step' && step.index === at) process.kill(process.pid, 'SIGKILL');
  },
});
say(`done ops=${ops}`);
