/** The processes of a crash-injection run (see crash-harness.mjs): the killed install and the entry point. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describePoint } from './crash-harness-report.mjs';

const CHILD = fileURLToPath(new URL('./crash-harness-child.mjs', import.meta.url));
const LAUNCH_TIMEOUT_MS = 60_000;

/**
 * The environment of the child and the entry point. Neither makes a TLS connection, but Node reads
 * NODE_EXTRA_CA_CERTS at every start (100+ ms per process on some machines), so it is dropped.
 */
function childEnv() {
  const env = { ...process.env };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'NOTSOTUF_INSTALL_ROOT', 'NOTSOTUF_VERSION']) delete env[name];
  return env;
}

function lineReader(stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const line of parts) onLine(line);
  });
}

/**
 * Installs `version` from `sourceDir` into `root` in a child process (crash-harness-child.mjs), killed at `point`
 * (`op` and `step` by itself, `time` from here); resolves once it is reaped, with what it reported.
 */
export function installInChild({ distInstall, root, sourceDir, version, point }) {
  const kill = point.mode === 'op' || point.mode === 'step' ? describePoint(point) : 'none';
  const args = [CHILD, pathToFileURL(distInstall).href, root, sourceDir, version, kill];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    const info = { done: false, ops: 0, stepOps: {}, killLine: undefined, durationMs: Number.NaN };
    let readyAt;
    let timer;
    let stderr = '';
    lineReader(child.stdout, (line) => {
      const [word, n, rest] = line.split(' ');
      if (word === 'ready') {
        readyAt = performance.now();
        if (point.mode === 'time') timer = setTimeout(() => child.kill('SIGKILL'), point.delayMs);
      } else if (word === 'step') info.stepOps[Number(n)] = Number(rest.slice('ops='.length));
      else if (word === 'kill') info.killLine = line.slice('kill '.length);
      else if (word === 'done') {
        info.done = true;
        info.ops = Number(n.slice('ops='.length));
        info.durationMs = performance.now() - readyAt;
      }
    });
    lineReader(child.stderr, (line) => {
      stderr += `${line}\n`;
    });
    child.on('error', reject);
    child.on('exit', () => clearTimeout(timer));
    // 'close' comes after 'exit' (the child is reaped, its pid dead) and after all its output was read.
    child.on('close', (code, signal) => {
      const killed = signal === 'SIGKILL';
      const failed = !killed && code !== 0;
      const problems = failed ? [`the install failed (exit ${code ?? signal}): ${stderr.trim()}`] : [];
      resolve({ ...info, killed, problems });
    });
  });
}

/** The real entry point, `node <dist>/install/launcher/main.js <root>`: its exit and output. */
export function launch(launcher, root) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, root], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      stderr += `\n(the entry point ran ${LAUNCH_TIMEOUT_MS} ms; killed)`;
      child.kill('SIGKILL');
    }, LAUNCH_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
