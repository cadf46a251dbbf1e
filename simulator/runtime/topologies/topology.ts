import type { Runtime } from "../runtime";
import type { ComponentHandle } from "../component-process";
import type { NetworkSide } from "../security-groups/model";
import type { TopologyDefinition, TopologyName } from "./definitions";
import type { AdminCredentials } from "../../ums/admin-auth";

/** What a device is told (or configured with) to reach its management server. */
export interface DeviceEndpoints {
  /** Onboarding (the OS 12 device enrollment address; the 443 listener in ALB verify). */
  readonly enrollmentUrl: string;
  /** Management WebSocket and update proxy (the cluster address). */
  readonly clusterUrl: string;
  /** Where a browser opens the web app. */
  readonly webAppUrl: string;
  /** TLS name devices check (the cluster FQDN in the web certificate). */
  readonly serverName: string;
  /** The CA devices trust for the server certificate (the UMS web root). */
  readonly trustedCaFile: string;
}

/** Why a topology cannot run here (PostgreSQL missing, a runtime it does not support): its scenarios are skipped with this reason. */
export class TopologySkipped extends Error {}

/** One UMS server of the topology (two or more in the HA topologies). */
export interface UmsServer {
  /** Its component name (ums, ums-2, ...). */
  readonly name: string;
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** The component that terminates a device's TLS connection, and so the one that refuses it. */
export type DeviceFacing = "ums" | "nginx" | "alb" | "icg";

export interface StartedTopology {
  readonly name: TopologyName;
  readonly definition: TopologyDefinition;
  readonly runtime: Runtime;
  readonly deviceFacing: DeviceFacing;
  readonly devices: DeviceEndpoints;
  /** The UMS IMI API, and the side the UMS (and so its administrator) is on. */
  readonly admin: { readonly baseUrl: string; readonly caFile: string; readonly serverName: string; readonly side: NetworkSide; readonly credentials: AdminCredentials };
  /** The UMS's own listener (devices, or only the admin API behind an ICG), which devices must not reach when a front is there. */
  readonly ums: { readonly host: string; readonly port: number };
  /** Every UMS server, in the order of the target group attachments (one in every topology but the HA ones). */
  readonly umsServers: readonly UmsServer[];
  /** The database the UMS servers keep their state in (a SQLite file, or the lab's PostgreSQL URL). */
  readonly umsDb?: string;
  /** The ALB emulator's log directory (AWSLogs/... and alb-emulator.log). */
  readonly albLogsDir?: string;
  /** nginx's access and error logs. */
  readonly nginxLogs?: { readonly access: string; readonly error: string };
  /** The nginx master's process id (the benches read its memory and CPU, workers included). */
  readonly nginxPid?: number;
  /** The components' processes, by name (ums, alb, icg), for their logs. */
  readonly components: Readonly<Record<string, ComponentHandle<unknown>>>;
  /** Milliseconds the start took. */
  readonly startMs: number;
  /** The components `restart` knows (ums, alb, icg: processes; an nginx front is not one). */
  readonly restartable: readonly string[];
  /**
   * Stops a component (SIGTERM; SIGKILL with `abrupt`, a server that dies without a goodbye) and
   * starts it again on the same address and port(s), after `whileDown` resolves if given (what to
   * watch while it is gone); `components` then holds the new process.
   */
  restart(component: string, how?: RestartHow): Promise<void>;
  stop(): Promise<void>;
}

/** How a restart goes: a clean stop or a kill, and what happens before the component comes back. */
export interface RestartHow {
  /** SIGKILL instead of SIGTERM: no goodbye to its peers. @default false */
  readonly abrupt?: boolean;
  /** Awaited between the stop and the new start. */
  readonly whileDown?: () => Promise<void>;
}
