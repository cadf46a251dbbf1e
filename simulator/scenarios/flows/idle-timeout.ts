import { DeviceFleet } from "../../device/device-fleet";
import { startTopology } from "../../runtime/topologies/start-topology";
import { readStack } from "../../terraform/read-stack";
import { splitLogLine } from "../../alb/log-lines";
import { logLines } from "../../alb/log-reader";
import { albEvents } from "../evidence-logs";
import { fleetOptions } from "./one-device";
import { untilFrontServes } from "./health";
import type { Observation } from "../context";
import type { Flow } from "./flow";

/**
 * Devices whose heartbeat is longer (or shorter) than the ALB's idle timeout, time-scaled: the ALB
 * emulator runs the stack's own `idle_timeout` 1 / IDLE_TIMEOUT_SCALE times as fast, and the devices'
 * heartbeat interval (a parameter: IGEL does not publish OS 12's, assumption `os12-heartbeat-interval`)
 * is scaled alike. AWS ("Load balancer attributes" > "Connection idle timeout") closes a connection,
 * WebSockets included, once nothing has been sent or received for the idle timeout: a heartbeat
 * above it means a cut and a reconnect every interval, seen in the ALB's events (idle-timeout) and
 * access log (a `wss` line per connection); a heartbeat below it keeps the one session.
 * Runs on its own instance of the topology (the scaled idle timer would cut the other flows' quiet sockets).
 */

/** 25 times faster: 60 s → 2.4 s, slow enough that a loaded machine's late timers do not decide the outcome. */
export const IDLE_TIMEOUT_SCALE = 0.04;

/** The device heartbeat intervals the two rows use, as multiples of the stack's idle timeout (below: a wide margin for late timers). */
export const HEARTBEAT_OVER_IDLE = { above: 1.5, below: 0.3 } as const;

/** How many idle timeouts the fleet is watched for. */
const WATCHED_IDLE_PERIODS = 4;
const DEVICES = 2;

export function idleTimeoutFlow(heartbeat: keyof typeof HEARTBEAT_OVER_IDLE): Flow {
  return async (ctx) => {
    const stackName = ctx.topology.definition.stack;
    if (ctx.topology.definition.front !== "alb" || !stackName) return { outcome: { kind: "n/a" }, evidence: {}, skipped: "no load balancer in this topology" };
    const idleSeconds = readStack(ctx.lab.stackDir(stackName)).loadBalancer.idleTimeoutSeconds;
    const heartbeatSeconds = idleSeconds * HEARTBEAT_OVER_IDLE[heartbeat];
    const idleMs = Math.round(idleSeconds * 1000 * IDLE_TIMEOUT_SCALE);
    const heartbeatMs = Math.round(heartbeatSeconds * 1000 * IDLE_TIMEOUT_SCALE);
    // The UMS's own liveness check (3 of its heartbeat intervals) must not be what cuts the sessions.
    const topology = await startTopology(ctx.topology.name, ctx.topology.runtime, ctx.lab, { instance: `heartbeat-${heartbeat}`, albIdleTimeoutScale: IDLE_TIMEOUT_SCALE, umsHeartbeatMs: Math.max(1000, heartbeatMs * 2) });
    try {
      // Its own instance: the front must serve (target healthy) before the devices' sessions mean anything.
      const serving = await untilFrontServes(topology);
      if (serving && serving.outcome.kind !== "ok") return serving;
      const imi = await topology.runtime.adminClient(topology.admin, topology.admin.side);
      const keys = await imi.mintEnrollmentKeys(DEVICES);
      const closeCodes: number[] = [];
      const fleet = await new DeviceFleet(
        fleetOptions(ctx.lab, topology, {
          count: DEVICES,
          enrollmentKeys: keys,
          unitBase: heartbeat === "above" ? 0xe100 : 0xe200,
          heartbeatMs,
          // Back at once after a cut: the cuts are the ALB's, not an outage.
          backoff: { initialMs: 20, maxMs: 200 },
          onEvent: (e) => {
            if (e.type === "offline") closeCodes.push(e.closeCode);
          },
        }),
      ).start();
      try {
        await fleet.waitForOnline(DEVICES, 20_000);
        await new Promise((r) => setTimeout(r, idleMs * WATCHED_IDLE_PERIODS));
        const sessions = fleet.devices.map((d) => d.stats.sessions);
        const online = fleet.onlineCount;
        // Let the ALB write the access-log lines of the cut connections (it buffers ~200 ms).
        await new Promise((r) => setTimeout(r, 400));
        return observe({
          heartbeat,
          idleSeconds,
          heartbeatSeconds,
          idleMs,
          heartbeatMs,
          sessions,
          online,
          closeCodes,
          cuts: albEvents(topology).filter((e) => e.kind === "idle-timeout"),
          wssLines: logLines(topology.albLogsDir, "access").filter((l) => splitLogLine(l)[0] === "wss"),
        });
      } finally {
        await fleet.stop();
      }
    } finally {
      await topology.stop();
    }
  };
}

interface Watched {
  readonly heartbeat: keyof typeof HEARTBEAT_OVER_IDLE;
  readonly idleSeconds: number;
  readonly heartbeatSeconds: number;
  readonly idleMs: number;
  readonly heartbeatMs: number;
  /** Sessions per device (welcomes), from the first one on. */
  readonly sessions: readonly number[];
  readonly online: number;
  readonly closeCodes: readonly number[];
  readonly cuts: readonly Record<string, unknown>[];
  readonly wssLines: readonly string[];
}

/**
 * One session per device and no cut: ok. Cut and re-established repeatedly (twice or more per device,
 * each cut an idle-timeout event of the ALB): closed by the ALB with the close code the devices saw.
 * Anything in between reads as code 0, which no expectation names.
 */
function observe(w: Watched): Observation {
  const scaled = `idle_timeout ${w.idleSeconds} s and heartbeat ${w.heartbeatSeconds} s, run ${1 / IDLE_TIMEOUT_SCALE} times as fast (${w.idleMs} ms, ${w.heartbeatMs} ms)`;
  const reconnects = w.sessions.map((s) => s - 1);
  const detail = `${scaled}: over ${WATCHED_IDLE_PERIODS} idle timeouts, sessions per device ${w.sessions.join(", ")}; ${w.cuts.length} WebSockets closed by the ALB's idle timer; ${w.wssLines.length} wss access-log lines; ${w.online}/${w.sessions.length} devices online at the end`;
  const cutLine = w.cuts[0] ? JSON.stringify(w.cuts[0]) : w.wssLines[0];
  if (reconnects.every((n) => n === 0) && w.cuts.length === 0) return { outcome: { kind: "ok" }, evidence: { detail, logLine: w.wssLines[0] } };
  // Every reconnect follows a cut the ALB's idle timer made; anything less is not what AWS does.
  const repeated = reconnects.every((n) => n >= 2) && w.cuts.length >= reconnects.reduce((a, n) => a + n, 0);
  const code = repeated ? (w.closeCodes[0] ?? 0) : 0;
  return {
    outcome: { kind: "close", by: "alb", code },
    evidence: { detail, closeCode: code, by: "alb", reason: String(w.cuts[0]?.reason ?? "connections closed without an idle-timeout event"), logLine: cutLine },
    note: repeated ? `cut and re-established ${reconnects.join(", ")} times` : `cut, but not repeatedly and every time by the idle timer (reconnects ${reconnects.join(", ")}, idle-timeout events ${w.cuts.length})`,
  };
}
