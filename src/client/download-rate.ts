/**
 * The download rate this client has measured, kept in `<cacheDir>/download-rate.json` as an exponentially
 * weighted moving average, so that the next plan weighs the time to apply patches against the download time they
 * save on this client's own link. The update rule is pure; reading and writing the file are best effort (a
 * missing or damaged file only means the default rate is used).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/durable-fs.js';

export const DOWNLOAD_RATE_FILE = 'download-rate.json';

/**
 * Downloads smaller than this are not sampled: their time is mostly request latency, and a rate taken from them
 * would make every link look slow.
 */
export const MIN_RATE_SAMPLE_BYTES = 1024 * 1024;

/** Weight of the newest sample: a few downloads are enough to follow a change of network. */
const NEW_SAMPLE_WEIGHT = 0.3;

export interface DownloadRate {
  /** Bytes per second. */
  readonly bytesPerSecond: number;
  /** Downloads averaged so far. */
  readonly samples: number;
}

/** The average after one more download; `previous` unchanged when the download is too small or badly timed. */
export function nextDownloadRate(
  previous: DownloadRate | undefined,
  bytes: number,
  seconds: number,
): DownloadRate | undefined {
  if (!(bytes >= MIN_RATE_SAMPLE_BYTES) || !(seconds > 0) || !Number.isFinite(bytes / seconds))
    return previous;
  const sample = bytes / seconds;
  if (!previous) return { bytesPerSecond: sample, samples: 1 };
  return {
    bytesPerSecond: previous.bytesPerSecond * (1 - NEW_SAMPLE_WEIGHT) + sample * NEW_SAMPLE_WEIGHT,
    samples: previous.samples + 1,
  };
}

function isDownloadRate(value: unknown): value is DownloadRate {
  const v = value as Partial<DownloadRate> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.bytesPerSecond === 'number' &&
    Number.isFinite(v.bytesPerSecond) &&
    v.bytesPerSecond > 0 &&
    typeof v.samples === 'number' &&
    Number.isInteger(v.samples) &&
    v.samples > 0
  );
}

/** The stored average, or undefined when there is none (or it cannot be read). */
export async function readDownloadRate(cacheDir: string): Promise<DownloadRate | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(cacheDir, DOWNLOAD_RATE_FILE), 'utf8'));
    return isDownloadRate(parsed)
      ? { bytesPerSecond: parsed.bytesPerSecond, samples: parsed.samples }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Adds a download to the stored average. Never throws: a rate that cannot be saved is only not remembered. */
export async function recordDownloadRate(cacheDir: string, bytes: number, seconds: number): Promise<void> {
  const previous = await readDownloadRate(cacheDir);
  const next = nextDownloadRate(previous, bytes, seconds);
  if (!next || next === previous) return;
  await writeFileAtomic(join(cacheDir, DOWNLOAD_RATE_FILE), `${JSON.stringify(next)}\n`).catch(
    () => undefined,
  );
}
