import { spawn, ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";

/** A process entry (simulator/…/main.ts) run as its own process, with its stdout as JSON lines. */
export interface EntryProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout line parsed so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** stderr so far. */
  stderr(): string;
  /** The first stdout line (already seen or future) that matches. */
  nextLine(match: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Exit code once it has exited. */
  exited: Promise<number | null>;
}

const ROOT = path.resolve(__dirname, "../../..");

export function spawnEntry(entry: string, args: readonly string[]): EntryProcess {
  const child = spawn(process.execPath, ["-r", path.join(__dirname, "../../helpers/ts-register.js"), path.join(ROOT, entry), ...args], { cwd: ROOT, stdio: "pipe" });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  readline.createInterface({ input: child.stdout }).on("line", (text) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { unparsed: text };
    }
    lines.push(parsed);
    for (const w of [...waiters]) if (w.match(parsed)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(parsed);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    nextLine(match, timeoutMs = 20_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line from ${entry} within ${timeoutMs} ms; stdout ${JSON.stringify(lines)}; stderr ${stderr.slice(-2000)}`)), timeoutMs);
        exited.then((code) => reject(new Error(`${entry} exited (${code}) before a matching line; stderr ${stderr.slice(-2000)}`)));
        waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}
