import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A process started inside a namespace (`ip netns exec` execs it, so the pid is the process's own). */
export class NetnsProcess {
  /** stdout so far, one entry a line. */
  readonly lines: string[] = [];
  /** stderr so far, one entry a line. */
  readonly errorLines: string[] = [];
  /** Resolves with the exit code (-1 when a signal ended it) once the process ended. */
  readonly exited: Promise<number>;
  private exitCode: number | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly child: ChildProcess,
    /** The command line as given (for messages). */
    readonly commandLine: string,
  ) {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      this.lines.push(l);
      for (const w of this.waiters) w();
    });
    createInterface({ input: child.stderr! }).on("line", (l) => this.errorLines.push(l));
    this.exited = new Promise((resolve) => {
      const done = (code: number) => {
        if (this.exitCode !== undefined) return;
        this.exitCode = code;
        for (const w of this.waiters) w();
        resolve(code);
      };
      child.once("exit", (code) => done(code ?? -1));
      child.once("error", () => done(127));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The first stdout line matching `pattern` (already printed or to come); rejects if the process exits or time runs out. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((l) => pattern.test(l));
        if (found !== undefined) finish(() => resolve(found));
        else if (this.exitCode !== undefined) finish(() => reject(new Error(`${this.commandLine} exited (${this.exitCode}) before printing ${pattern}; stderr: ${this.errorLines.slice(-5).join(" | ")}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.commandLine} printed no line matching ${pattern} within ${timeoutMs} ms`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops the process: `signal`, then SIGKILL after `timeoutMs`; resolves once it exited. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 3000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
