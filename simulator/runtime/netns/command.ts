import { execFileSync, spawn } from "node:child_process";

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; never rejects for a non-zero exit (look at `code`). */
export function runCommand(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    // A command that does not read its input may exit first: EPIPE is not our failure.
    child.stdin?.on("error", () => undefined).end(opts.input);
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await runCommand(cmd, args, { input });
  if (r.code !== 0) throw new Error(`'${[cmd, ...args].join(" ")}' failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Synchronous variant for exit hooks, where nothing asynchronous runs any more. Never throws. */
export function runSyncQuietly(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
  } catch {
    return "";
  }
}
