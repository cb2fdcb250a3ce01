/** Download progress across all files of a plan, with a rate averaged over a short window. */
const WINDOW_MS = 3000;

export class ProgressMeter {
  #bytes = 0;
  readonly #samples: { at: number; bytes: number }[] = [];

  constructor(
    public total: number,
    private readonly now: () => number = Date.now,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** More bytes to come than planned (a fallback to the full archive). */
  extend(bytes: number): void {
    this.total += bytes;
  }

  /** Adds `delta` received bytes; returns the rate in bytes per second over the window. */
  add(delta: number): number {
    this.#bytes += delta;
    const at = this.now();
    this.#samples.push({ at, bytes: this.#bytes });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    const elapsed = (at - first.at) / 1000;
    return elapsed > 0 ? (this.#bytes - first.bytes) / elapsed : 0;
  }
}
