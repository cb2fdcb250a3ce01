/**
 * Rollout waves from what a publisher types: `--percent 10 --then 50@24h --then 100@72h` means 10 % from now,
 * 50 % from 24 hours after now, 100 % from 72 hours after now. The waves are stored with absolute UTC times, so
 * every client reads the same schedule from the signed metadata.
 */
import { NotsotufError } from '../core/errors.js';
import { checkReleasePolicy, type RolloutWave } from '../core/release-policy.js';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const THEN_RE = /^(\d{1,3})@(\d{1,5})([mhd])$/;

function usage(message: string): never {
  throw new NotsotufError('INVALID_ARGUMENT', message, {
    hint: 'Write the share as a whole number from 0 to 100 and later waves as <percent>@<delay>, e.g. --percent 10 --then 50@24h --then 100@3d (units m, h, d).',
  });
}

/** ISO 8601 UTC to the second (what the metadata carries). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Waves: `percent` from `now`, then each `{ percent, afterMs }` from `now + afterMs`. */
export function rolloutWaves(
  percent: number,
  then: readonly { readonly percent: number; readonly afterMs: number }[],
  now: Date,
): RolloutWave[] {
  const start = now.getTime();
  const waves = [
    { percent, start: isoSeconds(start) },
    ...then.map((w) => ({ percent: w.percent, start: isoSeconds(start + w.afterMs) })),
  ];
  return checkReleasePolicy({ rollout: waves }).rollout as RolloutWave[];
}

/** Parses `--percent P` and `--then P@<n><m|h|d>` values. @throws NotsotufError INVALID_ARGUMENT. */
export function parseRolloutSchedule(percent: string, then: readonly string[], now: Date): RolloutWave[] {
  if (!/^\d{1,3}$/.test(percent)) usage(`--percent must be a whole number from 0 to 100, not "${percent}".`);
  const waves = then.map((text) => {
    const m = THEN_RE.exec(text);
    if (!m) usage(`--then must look like 50@24h, not "${text}".`);
    return { percent: Number(m[1]), afterMs: Number(m[2]) * (UNIT_MS[m[3] as string] as number) };
  });
  try {
    return rolloutWaves(Number(percent), waves, now);
  } catch (err) {
    return usage(
      `${(err as Error).message.replace(/^Invalid release policy: /, 'The rollout is invalid: ')}`,
    );
  }
}
