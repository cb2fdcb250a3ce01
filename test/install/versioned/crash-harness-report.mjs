/** Seeds, kill-point labels and the counts of a batch of crash-injection runs (see crash-harness.mjs). */

/** A seed from the command line or the environment (decimal or 0x hex), else a fresh random one. */
export function parseSeed(text) {
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`invalid seed ${JSON.stringify(text)}`);
  return seed >>> 0;
}

/** `op:K`, `step:N`, `time:D.DDms` or `none`. */
export function describePoint(point) {
  if (point.mode === 'op') return `op:${point.op}`;
  if (point.mode === 'step') return `step:${point.step}`;
  if (point.mode === 'time') return `time:${point.delayMs.toFixed(2)}ms`;
  return 'none';
}

/** Counts of a finished batch of runs. */
export function summarize(results) {
  const byMode = {};
  for (const r of results) {
    byMode[r.mode] ??= { runs: 0, hits: 0, old: 0, new: 0, phases: {} };
    byMode[r.mode].runs += 1;
    if (r.hit) byMode[r.mode].hits += 1;
    if (r.outcome !== null) byMode[r.mode][r.outcome] += 1;
    if (r.phase !== undefined) byMode[r.mode].phases[r.phase] = (byMode[r.mode].phases[r.phase] ?? 0) + 1;
  }
  const phases = {};
  for (const r of results) if (r.phase !== undefined) phases[r.phase] = (phases[r.phase] ?? 0) + 1;
  const opsHit = new Set(results.filter((r) => r.mode === 'op' && r.hit).map((r) => r.point));
  return {
    runs: results.length,
    hits: results.filter((r) => r.hit).length,
    old: results.filter((r) => r.outcome === 'old').length,
    new: results.filter((r) => r.outcome === 'new').length,
    byMode,
    phases,
    distinctOpsHit: opsHit.size,
    failures: results.filter((r) => r.problems.length > 0),
  };
}

const PHASES = ['preparing', 'copying', 'moved', 'switched', 'finished'];

/** `preparing 3, copying 80, …`: where the kills left the install. */
export function describePhases(phases) {
  return PHASES.filter((p) => phases[p] !== undefined)
    .map((p) => `${p} ${phases[p]}`)
    .join(', ');
}

/** `op 120/120 hit (old 100, new 20; preparing 3, copying 90, …)`: per kill mode. */
export function describeModes(summary) {
  return Object.entries(summary.byMode)
    .map(
      ([mode, c]) =>
        `${mode} ${c.hits}/${c.runs} hit (old ${c.old}, new ${c.new}; ${describePhases(c.phases)})`,
    )
    .join(', ');
}

/** One failure as text: its kill point, where the child died, what was wrong. */
export function describeFailure(failure, seed) {
  const where = failure.killedAt ? ` (died before ${failure.killedAt})` : '';
  const kept = failure.root ? `\n    root kept at ${failure.root}` : '';
  const problems = failure.problems.map((p) => `\n    - ${p}`).join('');
  return `  ${failure.id} seed=${seed} kill=${failure.point}${where}, hit=${failure.hit}:${problems}${kept}`;
}
