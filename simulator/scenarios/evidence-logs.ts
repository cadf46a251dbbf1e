import * as fs from "node:fs";
import * as path from "node:path";
import { splitLogLine } from "../alb/log-lines";
import { logLines } from "../alb/log-reader";
import type { StartedTopology } from "../runtime/topologies/topology";

/** Reading the components' logs for evidence: the ALB's connection log, the UMS's and ICG's JSON lines. */

export interface ConnectionLogRecord {
  readonly line: string;
  readonly serial: string;
  readonly verifyStatus: string;
}

/** Every connection-log record the emulated ALB wrote (delivered .log.gz objects and live tails), oldest first. */
export function connectionLog(topology: StartedTopology): ConnectionLogRecord[] {
  return logLines(topology.albLogsDir, "connection")
    .map((line) => {
      const fields = splitLogLine(line);
      return { line, serial: fields[9] ?? "-", verifyStatus: fields[10] ?? "-" };
    });
}

/** How many connection-log records there are now: a mark to find the records a probe adds. */
export function connectionLogMark(topology: StartedTopology): number {
  return connectionLog(topology).length;
}

/**
 * The newest connection-log record for a certificate serial (hex, any case) written after `mark`; without
 * a serial, the first failure written after `mark` (a connection without a certificate has no serial to match).
 */
export async function connectionLogFor(topology: StartedTopology, serial: string | undefined, mark = 0, waitMs = 2000): Promise<ConnectionLogRecord | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    // Only records after the mark: a certificate seen before (accepted, then revoked) has older records.
    const records = connectionLog(topology).slice(mark);
    const hit = serial
      ? records.reverse().find((r) => r.serial.toUpperCase() === serial.toUpperCase())
      : records.find((r) => r.verifyStatus.startsWith("Failed"));
    if (hit || Date.now() > deadline) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** JSON log lines of a component process that satisfy `pick`, newest first. */
export function componentLog(topology: StartedTopology, component: string, pick: (e: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  const c = topology.components[component];
  return c ? c.jsonLines().filter(pick).reverse() : [];
}

/** The ALB emulator's own events (alb-emulator.log, JSON lines). */
export function albEvents(topology: StartedTopology): Record<string, unknown>[] {
  const file = topology.albLogsDir ? path.join(topology.albLogsDir, "alb-emulator.log") : undefined;
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** The last line of nginx's access log that mentions `needle`. */
export function nginxAccessLine(topology: StartedTopology, needle: string): string | undefined {
  const file = topology.nginxLogs?.access;
  if (!file || !fs.existsSync(file)) return undefined;
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes(needle)).pop();
}
