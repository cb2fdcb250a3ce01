/**
 * What the Client reports while it works. The library never prints: apps (and the CLI) listen to these events
 * and render them as they like.
 */
import type { NotsotufError } from '../core/errors.js';
import type { InstallStep } from '../install/index.js';
import type { WithheldRelease } from './plan/offer.js';
import type { UpdateInfo } from './update-info.js';

export interface DownloadProgressEvent {
  /** Bytes received so far across every file of the plan. */
  readonly bytes: number;
  /** Bytes the whole plan downloads (signed lengths). */
  readonly total: number;
  /** Bytes per second, averaged over the last few seconds. */
  readonly rate: number;
  /** The target being downloaded now. */
  readonly file: string;
}

/**
 * The timed phases of an update: `refresh` (TUF metadata), `inspect-base` (checking the cached tar of the
 * installed version, or decompressing an installer's archive), `download` (each file), `apply` (the patch chain,
 * hashing its result in the same pass), `unpack` (decompressing and checking a full archive), `extract` and
 * `install`.
 */
export type ClientPhase =
  | 'refresh'
  | 'inspect-base'
  | 'download'
  | 'apply'
  | 'unpack'
  | 'extract'
  | 'install';

/** Event name → payload. */
export interface ClientEventMap {
  checking: { readonly currentVersion: string };
  'update-available': UpdateInfo;
  /** No update; `withheld` lists newer releases the signed policies do not offer to this install, and why. */
  'update-not-available': { readonly currentVersion: string; readonly withheld: readonly WithheldRelease[] };
  'download-progress': DownloadProgressEvent;
  /** A patch of the chain is being applied (index from 1). */
  patching: { readonly index: number; readonly count: number; readonly name: string };
  /** Checking a rebuilt or downloaded archive against the signed size and hash. */
  verifying: { readonly name: string };
  extracting: { readonly version: string };
  installing: InstallStep;
  done: { readonly version: string; readonly outcome: 'installed' | 'handover' };
  /**
   * A phase of an operation finished and took `ms` milliseconds (for telemetry and `npm run bench`): the phases
   * of one update add up to where its time went.
   */
  timing: { readonly phase: ClientPhase; readonly ms: number };
  /** Something went wrong but the client recovered (e.g. a failed patch, replaced by the full archive). */
  warning: { readonly message: string; readonly cause?: unknown };
  error: NotsotufError;
}

export type ClientEventName = keyof ClientEventMap;
export type ClientListener<K extends ClientEventName> = (payload: ClientEventMap[K]) => void;

/** What every event map has: a `warning`, where a throwing listener is reported. */
export interface WarningEvents {
  warning: { readonly message: string; readonly cause?: unknown };
}

/** A listener of event `K` of the event map `M`. */
export type EventListener<M, K extends keyof M> = (payload: M[K]) => void;

/**
 * A minimal typed event emitter over the event map `M` (listener errors are not the emitter's business: they are
 * reported as warnings, and a throwing warning listener is ignored).
 */
export class TypedEvents<M extends WarningEvents> {
  readonly #listeners = new Map<keyof M, Set<EventListener<M, never>>>();

  on<K extends keyof M>(event: K, listener: EventListener<M, K>): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    set.add(listener as EventListener<M, never>);
    this.#listeners.set(event, set);
    return () => this.off(event, listener);
  }

  off<K extends keyof M>(event: K, listener: EventListener<M, K>): void {
    this.#listeners.get(event)?.delete(listener as EventListener<M, never>);
  }

  protected emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as EventListener<M, K>)(payload);
      } catch (err) {
        if (event !== 'warning') {
          this.emit('warning', { message: `A ${String(event)} listener threw.`, cause: err } as M['warning']);
        }
      }
    }
  }
}

/** The Client's events. */
export class ClientEvents extends TypedEvents<ClientEventMap> {}
