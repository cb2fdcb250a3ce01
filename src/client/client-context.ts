/**
 * What the Client's parts share: its options, its cache directory and a way to emit its events. The Client
 * builds one and hands it to the session, the download route, the base-archive check and the housekeeping.
 */
import type { NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import type { CacheDir } from './cache-dir.js';
import type { ClientEventMap, ClientEventName, ClientPhase } from './events.js';
import { type ClientOptions, DEFAULT_CLIENT_OPTIONS } from './options.js';

/** The Client's `emit`, handed to its parts. */
export type EmitClientEvent = <K extends ClientEventName>(event: K, payload: ClientEventMap[K]) => void;

export interface ClientContext {
  readonly options: ClientOptions;
  readonly cache: CacheDir;
  readonly emit: EmitClientEvent;
}

/** IO_ERROR for an errno error, ABORTED, else INTERNAL_ERROR (a bug): see `core/foreign-error.ts`. */
export function asNotsotufError(err: unknown, signal: AbortSignal | undefined): NotsotufError {
  return wrapForeignError(err, 'The update', { signal });
}

export function maxTarSizeOf(options: ClientOptions): number {
  return options.maxUnsignedTarSize ?? DEFAULT_CLIENT_OPTIONS.maxUnsignedTarSize;
}

/** Runs `body` and reports its duration as a `timing` event (also when it fails). */
export async function timed<T>(
  emit: EmitClientEvent,
  phase: ClientPhase,
  body: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } finally {
    emitTiming(emit, phase, performance.now() - started);
  }
}

export function emitTiming(emit: EmitClientEvent, phase: ClientPhase, ms: number): void {
  emit('timing', { phase, ms });
}
