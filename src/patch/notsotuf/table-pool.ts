/**
 * The matchers' index tables (up to 128 MiB) reused from one changed file to the next on the same thread.
 * A finished table would otherwise wait for a garbage collection that V8 runs late when its heap is small, and
 * the next file's table would come on top of it: peak memory would depend on when the collector ran.
 */
let spare: Int32Array | undefined;

/** A table of `length` slots, all −1, taken from the spare when it is large enough. */
export function takeTable(length: number): Int32Array {
  if (spare && spare.length >= length) {
    const table = spare.subarray(0, length);
    spare = undefined;
    return table.fill(-1);
  }
  spare = undefined; // too small: let it go rather than hold it beside the new one
  return new Int32Array(length).fill(-1);
}

/** Gives a table back when its matcher is done with it; the larger of it and the spare is kept. */
export function giveBackTable(table: Int32Array): void {
  const whole = new Int32Array(table.buffer);
  if (!spare || whole.length > spare.length) spare = whole;
}

/** Lets the spare go (at the end of a patch: a process that embeds the publisher keeps no 128 MiB behind). */
export function dropSpareTable(): void {
  spare = undefined;
}
