import { ERROR_CODES, type NotsotufError } from '../core/errors.js';
import { stderrTerminal } from './terminal.js';

/** Output settings shared by every command. */
export interface OutputOptions {
  readonly json: boolean;
  readonly debug: boolean;
}

/** Prints a result: JSON on stdout for scripts, or the human text. */
export function printResult(out: OutputOptions, json: unknown, human: () => string): void {
  if (out.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Prints warnings on stderr, so that `--json` output on stdout stays one document (they are in it too). */
export function printWarnings(warnings: readonly string[] | undefined): void {
  for (const w of warnings ?? []) stderrTerminal.writeLines(`warning: ${w}\n`);
}

/**
 * Prints an error: code, message and hint (the code's default hint when the error has none); the stack only with
 * --debug. The caller passes a NotsotufError (see `main.ts`: a foreign error is wrapped first).
 */
export function printError(out: OutputOptions, err: NotsotufError): void {
  if (out.json) process.stdout.write(`${JSON.stringify({ ok: false, error: err.toJSON() }, null, 2)}\n`);
  // A bar the failed command left on the screen stays as it was; the error starts on the line below it.
  stderrTerminal.endLive();
  const lines: string[] = [`error ${err.code}: ${err.message}\n`];
  const hint = err.hint || ERROR_CODES[err.code]?.hint;
  if (hint) lines.push(`  hint: ${hint}\n`);
  if (out.debug) {
    let cause: unknown = err;
    while (cause instanceof Error) {
      lines.push(`${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
      if (cause) lines.push('caused by: ');
    }
  }
  stderrTerminal.writeLines(lines.join(''));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * A one-line progress bar on stderr, drawn only on a terminal (and never with --json), so logs and pipes stay
 * clean. It draws through {@link stderrTerminal}, so a passphrase prompt or a warning never lands inside it.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    out: OutputOptions,
    /** What `done`/`total` count: bytes (shown as KB/MB) or whole items such as files. */
    private readonly unit: 'bytes' | 'items' = 'bytes',
  ) {
    this.enabled = Boolean(process.stderr.isTTY) && !out.json;
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 80 && done < total) return;
    this.lastDraw = now;
    const width = 30;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    stderrTerminal.drawLive(
      `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${this.unit === 'bytes' ? `${formatBytes(done)}/${formatBytes(total)}` : `${done}/${total}`}`,
    );
  }

  done(): void {
    if (this.enabled && this.lastDraw > 0) stderrTerminal.endLive();
    this.lastDraw = 0;
  }
}
