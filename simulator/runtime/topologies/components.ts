import * as fs from "node:fs";
import * as path from "node:path";
import { startComponent, RunningComponent } from "../component-process";
import type { Runtime } from "../runtime";
import type { NetworkSide } from "../security-groups/model";
import type { Lab, AppConfigName } from "../lab";
import { entry } from "./entries";

/** Starting the component processes of a topology on a runtime's sides. */

export interface UmsReady {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly fqdn: string;
  readonly webRootCertPath: string;
}

export interface AlbReady {
  readonly listeners: Readonly<Record<string, string>>;
  readonly logsDir?: string;
}

/** In namespaces every side has its own ports: use the real ones. On loopback, any free port. */
function port(runtime: Runtime, real: number): number {
  return runtime.isolated ? real : 0;
}

export interface UmsStart {
  readonly appConfig: AppConfigName;
  /** Connect out to this ICG instead of serving devices (icg topologies). */
  readonly icgUrl?: string;
  readonly side?: NetworkSide;
  readonly heartbeatMs?: number;
  /** The UMS's port in the namespace runtime, where it may share a side with an ICG. @default 8443 */
  readonly port?: number;
  /** Where its output goes besides memory. */
  readonly logFile?: string;
}

export function startUms(runtime: Runtime, lab: Lab, o: UmsStart): Promise<RunningComponent<UmsReady>> {
  const side = o.side ?? "private";
  return startComponent<UmsReady>(
    {
      name: "ums",
      logFile: o.logFile,
      command: process.execPath,
      args: [
        entry("ums"),
        "--pki", lab.pki.dir,
        "--app-config", lab.appConfigs[o.appConfig],
        "--host", runtime.address(side),
        "--port", String(port(runtime, o.port ?? 8443)),
        "--heartbeat-ms", String(o.heartbeatMs ?? 1000),
        ...(o.icgUrl ? ["--icg", o.icgUrl] : []),
      ],
    },
    runtime.spawner(side),
  );
}

export interface AlbStart {
  readonly stackDir: string;
  readonly target: { readonly host: string; readonly port: number };
  readonly logsDir: string;
  /** Listener ports of the stack (8443, and 443 in verify). */
  readonly listenerPorts: readonly number[];
  /** Processes serving the listeners (`--workers`). @default 1 */
  readonly workers?: number;
  readonly logFile?: string;
}

export function startAlb(runtime: Runtime, o: AlbStart): Promise<RunningComponent<AlbReady>> {
  fs.mkdirSync(o.logsDir, { recursive: true });
  return startComponent<AlbReady>(
    {
      name: "alb",
      logFile: o.logFile,
      command: process.execPath,
      args: [
        entry("cli"),
        "alb",
        "--stack", o.stackDir,
        "--target", `${o.target.host}:${o.target.port}`,
        "--host", runtime.address("public"),
        ...o.listenerPorts.flatMap((p) => ["--port", `${p}=${port(runtime, p)}`]),
        "--logs", o.logsDir,
        // Health checks every 0.6 s instead of 30 s: the same thresholds, a faster simulation.
        "--health-check-scale", "0.02",
        ...(o.workers && o.workers > 1 ? ["--workers", String(o.workers)] : []),
      ],
    },
    runtime.spawner("public"),
  );
}

/** A per-topology run directory under the lab. */
export function runDir(lab: Lab, name: string): string {
  const dir = path.join(lab.dir, "run", name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
