/**
 * The one owner of stderr's current line. A progress bar keeps a "live" line that it rewrites in place (`\r`); any
 * other text on stderr (a passphrase prompt, a warning, an error) would land in the middle of it. So everything the
 * CLI writes to stderr while a bar may be live goes through here: the live line is cleared before other text and
 * drawn again after it, and a prompt holds the terminal (bar updates wait) until it has its answer.
 */

/** Clears the whole current line; the cursor goes back to its start. */
const CLEAR_LINE = '\r\x1b[2K';
/** Clears from the cursor to the end of the line (what is left of a longer previous draw). */
const CLEAR_TO_END = '\x1b[K';

/** Where the terminal writes: process.stderr, or a recorder in tests. */
export interface TerminalOutput {
  write(text: string): unknown;
}

export class StderrTerminal {
  /** The live line as last drawn (also while a prompt hides it), or undefined. */
  private live: string | undefined;
  /** Whether the live line is on the screen now. */
  private shown = false;
  /** Prompts holding the terminal: while above 0, draws are remembered but not shown. */
  private holds = 0;

  constructor(private readonly out: TerminalOutput) {}

  /** Draws (or redraws) the live line in place. */
  drawLive(text: string): void {
    this.live = text;
    if (this.holds > 0) return;
    this.out.write(`\r${text}${CLEAR_TO_END}`);
    this.shown = true;
  }

  /** Ends the live line: it stays on the screen as it is, and the next output starts below it. */
  endLive(): void {
    if (this.shown) this.out.write('\n');
    this.live = undefined;
    this.shown = false;
  }

  /** Writes whole lines (text ending in a line break) above the live line, which is drawn again below them. */
  writeLines(text: string): void {
    this.hide();
    this.out.write(text);
    this.show();
  }

  /**
   * Runs a prompt on a line of its own: the live line is cleared first, bar updates wait while `ask` runs, and the
   * live line is drawn again below the answered prompt. `ask` must leave the cursor at the start of a line.
   */
  async prompt<T>(ask: () => Promise<T>): Promise<T> {
    this.hide();
    this.holds++;
    try {
      return await ask();
    } finally {
      this.holds--;
      if (this.holds === 0) this.show();
    }
  }

  private hide(): void {
    if (this.shown) this.out.write(CLEAR_LINE);
    this.shown = false;
  }

  private show(): void {
    if (this.live !== undefined && this.holds === 0 && !this.shown) {
      this.out.write(`${this.live}${CLEAR_TO_END}`);
      this.shown = true;
    }
  }
}

/** The CLI's stderr: progress bars, prompts, warnings and errors share it. */
export const stderrTerminal = new StderrTerminal(process.stderr);
