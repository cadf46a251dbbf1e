import * as fs from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/**
 * Everything a component container printed (stdout and stderr as Docker streams them), line by
 * line, newest last: the ready line, the JSON log lines, and the tail shown when it fails.
 */
export class ContainerOutput {
  readonly lines: string[] = [];
  private streamEnded = false;
  private readonly listeners = new Set<() => void>();
  private teeFile?: fs.WriteStream;

  /** Also appends every line, from now on, to `file` (a component's log file beside the run). */
  tee(file: string): void {
    this.teeFile = fs.createWriteStream(file, { flags: "a" });
    this.teeFile.on("error", () => undefined);
  }

  /** Follows a log stream (testcontainers' log consumer). */
  attach(stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Infinity })
      .on("line", (line) => {
        this.lines.push(line);
        this.teeFile?.write(`${line}\n`);
        this.notify();
      })
      .on("close", () => {
        this.streamEnded = true;
        this.teeFile?.end();
        this.notify();
      });
    stream.on("error", () => undefined);
  }

  /** True once the log stream ended (the container exited). */
  get ended(): boolean {
    return this.streamEnded;
  }

  /** Lines that parse as JSON objects. */
  jsonLines(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      const parsed = parseJsonObject(line);
      return parsed ? [parsed] : [];
    });
  }

  find(predicate: (json: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.jsonLines().find(predicate);
  }

  /** The last `n` lines, for error messages; error lines printed earlier (e.g. before a usage text) come first. */
  tail(n = 15): string {
    const last = this.lines.slice(-n);
    const earlier = this.lines.slice(0, -n).filter((l) => /^\s*(error|[a-z-]+: (error|internal error))\b|^\s*fix: /i.test(l)).slice(-5);
    return [...earlier, ...(earlier.length ? ["..."] : []), ...last].join("\n");
  }

  /**
   * Resolves with the first JSON line matching `predicate` (already printed or still to come);
   * rejects after `timeoutMs`, or when the output ends without one.
   */
  waitForJson(predicate: (json: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const found = this.find(predicate);
        if (found) done(() => resolve(found));
        else if (this.streamEnded) done(() => reject(new Error(`the container's output ended without ${what}${this.lines.length ? `\n--- its last output ---\n${this.tail()}` : ""}`)));
      };
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms${this.lines.length ? `\n--- its last output ---\n${this.tail()}` : ""}`))), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves once the stream ended or after `ms`, whichever is first (lets the last lines arrive). */
  async settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.streamEnded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export function parseJsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
