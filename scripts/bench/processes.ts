import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";

/**
 * Child processes of a benchmark: started with a ready check, stopped by their own pid (never by
 * name), CPU time read from /proc for a whole process tree (nginx master + workers, cluster
 * primary + workers).
 */

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  /** First stdout line (the ready line), if the process prints one. */
  readonly readyLine?: string;
}

const started = new Set<ChildProcess>();

export function startProcess(name: string, command: string, args: string[], ready: "line" | { port: number; host: string }, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
  started.add(child);
  child.once("exit", () => started.delete(child));
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c).slice(-4000)));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`${name}: ${why}\n${stderr}`));
    child.once("exit", (code) => fail(`exited with code ${code} before it was ready`));
    if (ready === "line") {
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c;
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve({ name, child, readyLine: out.slice(0, nl) });
      });
    } else {
      child.stdout!.resume();
      const until = Date.now() + 10_000;
      const probe = () => {
        const net = require("node:net") as typeof import("node:net");
        const s = net.connect(ready.port, ready.host, () => {
          s.destroy();
          resolve({ name, child });
        });
        s.on("error", () => (Date.now() > until ? fail("did not listen") : setTimeout(probe, 50)));
      };
      probe();
    }
  });
}

export async function stopProcess(p: Started | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Kills what is still running (on a failure or Ctrl-C). */
export function stopAll(): void {
  for (const c of started) c.kill("SIGKILL");
}

/** CPU seconds (user + system) of a process and all its descendants. */
export function treeCpuSeconds(rootPid: number): number {
  const ticks = 100; // USER_HZ on Linux
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    for (const [child, parent] of parents) if (parent === pid) stack.push(child);
  }
  return total;
}
