import { UserError } from "../../core/errors";
import type { FlagSpec, OptionsOf } from "../../simulator/common/flags";
import { HA_TOPOLOGIES, isTopologyName, TopologyName, TOPOLOGIES } from "../../simulator/runtime/topologies/definitions";
import type { RestartTarget } from "./soak-harness";

/**
 * A soak's size and schedule from its flags. Issue 15 §5: the UMS restarted every 5 minutes and the
 * front every 7, in a 30-minute run. A shorter run scales both intervals by minutes / 30, so that it
 * sees as many restarts of each as the full run (6 of the UMS, 4 of the front): a 2-minute run
 * restarts the UMS every 20 s and the front every 28 s. The bound a device has to come back in
 * (30 s) is not scaled: it is a real time. In an HA topology a UMS server is also killed (SIGKILL)
 * every 10 minutes, the first 2.5 minutes in, between the restarts; its devices must be back on the
 * other server within the same 30 s, and it is started again once they are.
 */

export const FULL_MINUTES = 30;
export const UMS_EVERY_S = 5 * 60;
export const FRONT_EVERY_S = 7 * 60;
export const KILL_EVERY_S = 10 * 60;
export const FIRST_KILL_S = 2.5 * 60;
export const BACK_WITHIN_MS = 30_000;

export const SOAK_FLAGS = {
  minutes: { flag: "--minutes", kind: "number", value: "<m>", min: 0.5, description: "how long commands flow and components restart", defaultText: String(FULL_MINUTES) },
  devices: { flag: "--devices", kind: "integer", value: "<n>", min: 1, max: 20_000, description: "devices online through the run", defaultText: "1000" },
  topology: { flag: "--topology", kind: "string", value: "<name>", description: `the topology (one with a restartable front: ${TOPOLOGIES.filter((t) => t !== "reverse-proxy" && t !== "direct").join(", ")})`, defaultText: "alb-verify" },
  rate: { flag: "--rate", kind: "number", value: "<n>", min: 0.1, description: "commands issued per second", defaultText: "devices / 20, at least 2" },
  offline: { flag: "--offline", kind: "integer", value: "<n>", min: 0, description: "devices switched off before each UMS restart, a command queued for each (what the UMS must keep)", defaultText: "5% of the devices, at least 1" },
  backoffMaxMs: { flag: "--backoff-max-ms", kind: "integer", value: "<ms>", min: 100, description: "devices' largest reconnect delay (equal jitter from 1 s up)", defaultText: "15000" },
  report: { flag: "--report", kind: "string", value: "<dir>", description: "where soak.json and soak.html go", defaultText: "reports/soak" },
} as const satisfies FlagSpec;

export type SoakOptions = OptionsOf<typeof SOAK_FLAGS>;

export interface ScheduledRestart {
  /** Seconds into the run. */
  readonly at: number;
  readonly target: RestartTarget;
}

export interface SoakPlan {
  readonly minutes: number;
  readonly devices: number;
  readonly topology: TopologyName;
  readonly commandsPerSecond: number;
  readonly backoffMaxMs: number;
  readonly offlineAtUmsRestart: number;
  /** minutes / 30 for a shorter run, else 1. */
  readonly scale: number;
  readonly umsEveryS: number;
  readonly frontEveryS: number;
  /** Seconds between UMS server kills (HA topologies only). */
  readonly killEveryS?: number;
  readonly restarts: readonly ScheduledRestart[];
  readonly reportDir?: string;
}

export interface RestartIntervals {
  readonly umsEveryS: number;
  /** None: no front to restart (direct). */
  readonly frontEveryS?: number;
  /** UMS server kills (HA), the first at `firstKillS`. */
  readonly killEveryS?: number;
  readonly firstKillS?: number;
}

/** Restarts at every multiple of each interval (kills from their first) that leaves a device time to come back before the end. */
export function restartSchedule(durationS: number, every: RestartIntervals): ScheduledRestart[] {
  const last = durationS - Math.min(BACK_WITHIN_MS / 1000, durationS / 4);
  const list: ScheduledRestart[] = [];
  const add = (from: number, step: number, target: RestartTarget) => {
    for (let at = from; at <= last; at += step) list.push({ at: Math.round(at * 10) / 10, target });
  };
  add(every.umsEveryS, every.umsEveryS, "ums");
  if (every.frontEveryS) add(every.frontEveryS, every.frontEveryS, "front");
  if (every.killEveryS) add(every.firstKillS ?? every.killEveryS, every.killEveryS, "ums-server");
  return list.sort((a, b) => a.at - b.at || a.target.localeCompare(b.target));
}

export function soakPlan(o: Partial<SoakOptions>): SoakPlan {
  const topology = o.topology ?? "alb-verify";
  if (!isTopologyName(topology)) throw new UserError(`--topology: '${topology}' is not a topology\n  fix: use one of ${TOPOLOGIES.join(", ")}`);
  if (topology === "reverse-proxy") throw new UserError("--topology: the soak restarts the front, and reverse-proxy's nginx is not one of the processes it can restart\n  fix: use alb-verify, alb-passthrough, icg, icg-alb-verify or icg-alb-passthrough");
  const minutes = o.minutes ?? FULL_MINUTES;
  const devices = o.devices ?? 1000;
  const scale = Math.min(1, minutes / FULL_MINUTES);
  const umsEveryS = UMS_EVERY_S * scale;
  const frontEveryS = FRONT_EVERY_S * scale;
  const ha = HA_TOPOLOGIES.includes(topology);
  const killEveryS = ha ? KILL_EVERY_S * scale : undefined;
  return {
    minutes,
    devices,
    topology,
    commandsPerSecond: o.rate ?? Math.max(2, Math.round(devices / 20)),
    backoffMaxMs: o.backoffMaxMs ?? 15_000,
    offlineAtUmsRestart: Math.min(devices, o.offline ?? Math.max(1, Math.round(devices / 20))),
    scale,
    umsEveryS,
    frontEveryS,
    killEveryS,
    restarts: restartSchedule(minutes * 60, { umsEveryS, frontEveryS: topology === "direct" ? undefined : frontEveryS, killEveryS, firstKillS: ha ? FIRST_KILL_S * scale : undefined }),
    reportDir: o.report,
  };
}
