import * as os from "node:os";

/**
 * Progress of a bench run, on stderr (stdout holds the figures): lines that stay, and a status line
 * that the next one replaces on a terminal (in CI only the statuses marked `plain` are printed).
 */

const tty = Boolean(process.stderr.isTTY) && process.env.CI !== "true";
let transient = false;

/** A line that stays. */
export function say(text: string): void {
  if (tty && transient) process.stderr.write("\r\x1b[2K");
  transient = false;
  process.stderr.write(`${text}\n`);
}

/** A status that the next one replaces on a terminal; elsewhere printed only when `plain`. */
export function status(text: string, plain = false): void {
  if (tty) {
    process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    transient = true;
  } else if (plain) process.stderr.write(`${text}\n`);
}

/** The load averages, for the notes: the machine is shared and other work runs meanwhile. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

export const CORES = os.availableParallelism?.() ?? os.cpus().length;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
