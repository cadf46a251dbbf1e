import { ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import * as fs from "node:fs";

/**
 * A component running as its own process (mock UMS, ICG, ALB emulator, device fleet): started from
 * a command line, ready when it prints its first JSON line on stdout (the endpoints it listens on),
 * stopped with SIGTERM. Its output is kept for reports and for explaining failures.
 */

export interface ComponentCommand {
  /** A name for logs and errors, e.g. "ums" or "alb". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
  /** Also append every line it prints to this file (for reading after the run). @default none */
  readonly logFile?: string;
  /** Called with every line it prints on stdout, the ready line included (a fleet's event lines, as they come). @default none */
  readonly onLine?: (line: string) => void;
}

/** Starts a process somewhere (the host, a network namespace, ...). */
export type Spawner = (command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: boolean }) => ChildProcess;

export const hostSpawner: Spawner = (command, args, options) => spawn(command, [...args], { env: options.env, cwd: options.cwd, stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"] });

export class ComponentStartError extends Error {}

/** A started component wherever it runs (a process here, a container): its ready line, its log, its stop. */
export interface ComponentHandle<Ready = Record<string, unknown>> {
  readonly name: string;
  /** The JSON object the component printed when ready. */
  readonly ready: Ready;
  /** Its process id where it is a process on this machine (benches read its memory); undefined in a container. */
  readonly pid?: number;
  readonly running: boolean;
  /** Lines it printed that parse as JSON objects (its structured log). */
  jsonLines(): Record<string, unknown>[];
  stop(): Promise<void>;
  /** SIGKILL: it dies as a crashed server does, without closing a connection. Where the runtime can. */
  kill?(): Promise<void>;
}

export class RunningComponent<Ready = Record<string, unknown>> implements ComponentHandle<Ready> {
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    /** The JSON object the component printed when ready. */
    readonly ready: Ready,
    /** Every line it printed (stdout and stderr), newest last. */
    readonly output: string[],
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once("exit", (code) => resolve(code));
    });
    void this.exited.then((code) => (this.exitCode = code));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Lines it printed that parse as JSON objects (its structured log). */
  jsonLines(): Record<string, unknown>[] {
    return this.output.flatMap((line) => {
      try {
        const v = JSON.parse(line);
        return v && typeof v === "object" && !Array.isArray(v) ? [v] : [];
      } catch {
        return [];
      }
    });
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Spawns the component and resolves once it printed its ready line; rejects (and kills it) otherwise. */
export function startComponent<Ready = Record<string, unknown>>(cmd: ComponentCommand, spawner: Spawner = hostSpawner): Promise<RunningComponent<Ready>> {
  const child = spawner(cmd.command, cmd.args, { env: { ...process.env, ...cmd.env }, cwd: cmd.cwd });
  const output: string[] = [];
  const log = cmd.logFile ? fs.createWriteStream(cmd.logFile, { flags: "a" }) : undefined;
  const keep = (line: string) => {
    output.push(line);
    log?.write(`${line}\n`);
  };
  child.once("exit", () => log?.end());
  return new Promise((resolve, reject) => {
    let ready: Ready | undefined;
    const fail = (why: string) => {
      if (ready) return;
      child.kill("SIGKILL");
      const tail = output.slice(-15).join("\n");
      reject(new ComponentStartError(`${cmd.name} did not start: ${why}${tail ? `\n--- its last output ---\n${tail}` : ""}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${cmd.readyTimeoutMs ?? 30_000} ms`), cmd.readyTimeoutMs ?? 30_000);
    createInterface({ input: child.stderr! }).on("line", keep);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      keep(line);
      cmd.onLine?.(line);
      if (ready || !line.startsWith("{")) return;
      try {
        ready = JSON.parse(line) as Ready;
      } catch {
        return;
      }
      clearTimeout(timer);
      resolve(new RunningComponent(cmd.name, child, ready, output));
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      fail(`exited with ${signal ?? `code ${code}`}`);
    });
  });
}
