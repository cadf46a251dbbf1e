/**
 * Progress of long work: on a terminal one line that redraws itself; elsewhere (CI, pipes) plain
 * lines, one per step, so logs stay readable.
 */
export class Progress {
  private done = 0;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY) && process.env.CI !== "true";
  }

  /** A step starts: shows what is running now. */
  start(label: string): void {
    if (this.tty) this.redraw(label);
  }

  /** A step ended with a short outcome ("ok", "MISMATCH", ...). */
  step(label: string, outcome: string): void {
    this.done++;
    if (this.tty) this.redraw(label);
    else this.out.write(`[${String(this.done).padStart(String(this.total).length)}/${this.total}] ${label}: ${outcome}\n`);
  }

  /** A message outside the step count (a topology starting, a warning). */
  note(message: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${message}\n`);
    else this.out.write(`${message}\n`);
  }

  finish(): void {
    if (this.tty) this.out.write("\r\x1b[2K");
  }

  private redraw(label: string): void {
    const width = 24;
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    const columns = this.out.columns ?? 100;
    this.out.write(`\r\x1b[2K[${bar}] ${this.done}/${this.total} ${label}`.slice(0, columns + 8));
  }
}
