import * as fs from "node:fs";
import * as path from "node:path";
import { DeviceFleet } from "../../device/device-fleet";
import type { DeviceEvent } from "../../device/fake-device";
import { EVENTS_LOG } from "../../alb/alb-emulator";
import { readStack } from "../../terraform/read-stack";
import { ALB_HEALTH_CHECK_SCALE } from "../../runtime/topologies/start-topology";
import type { ImiCommandExec } from "../../protocol/imi";
import { fleetOptions } from "./one-device";
import type { Flow } from "./flow";

/**
 * A UMS server of an HA cluster dies (SIGKILL, no goodbye): the ALB's health checks mark its target
 * unhealthy after interval × unhealthy threshold (the stack's, on the emulator's faster clock), its
 * devices reconnect through the ALB to the other server, and every command, queued on the dead
 * server just before and on the living one during the failure, is executed exactly once.
 */

const DEVICES = 6;
/** Slack on top of the health checks' own time: a device's longest backoff (FAST_DEVICES), a TLS handshake, a busy CI box. */
const SLACK_MS = 4000;

async function poll<T>(what: string, limitMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The emulated ALB's latest health transition of `target` (its event log): the state and when. */
function lastTransition(albLogsDir: string, target: string): { to: string; at: number } | undefined {
  const file = path.join(albLogsDir, EVENTS_LOG);
  if (!fs.existsSync(file)) return undefined;
  let last: { to: string; at: number } | undefined;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.includes('"target-health"')) continue;
    const e = JSON.parse(line) as { target: string; to: string; time: string };
    if (e.target === target) last = { to: e.to, at: Date.parse(e.time) };
  }
  return last;
}

export const failoverFlow: Flow = async (ctx) => {
  const t = ctx.topology;
  if (t.umsServers.length < 2) return { outcome: { kind: "n/a" }, evidence: {}, skipped: "one UMS server: nothing to fail over to" };
  const victim = t.umsServers[t.umsServers.length - 1];
  const survivor = t.umsServers[0];
  const victimProcess = t.components[victim.name];
  if (!victimProcess?.kill || !t.albLogsDir) return { outcome: { kind: "n/a" }, evidence: {}, skipped: "this runtime cannot kill a UMS server abruptly" };
  const group = [...readStack(ctx.lab.stackDir(t.definition.stack!, t.definition.umsServers)).targetGroups.values()][0];
  const hc = group.healthCheck;
  const detectMs = hc.intervalSeconds * hc.unhealthyThreshold * 1000 * ALB_HEALTH_CHECK_SCALE;
  const boundMs = detectMs + hc.intervalSeconds * 1000 * ALB_HEALTH_CHECK_SCALE + SLACK_MS;

  // Commands are issued on either server: the dead one's IMI before, the survivor's during and after.
  const imiVictim = await t.runtime.adminClient({ ...t.admin, baseUrl: victim.url }, t.admin.side);
  const imiSurvivor = ctx.imi;
  const executed = new Map<string, number>();
  let resent = 0;
  const onEvent = (e: DeviceEvent) => {
    if (e.type === "command") executed.set(e.commandId, (executed.get(e.commandId) ?? 0) + 1);
    if (e.type === "duplicate-command") resent++;
  };
  const keys = await imiVictim.mintEnrollmentKeys(DEVICES);
  const fleet = await new DeviceFleet(fleetOptions(ctx.lab, t, { count: DEVICES, enrollmentKeys: keys, onEvent })).start();
  try {
    await fleet.waitForOnline(DEVICES, 30_000);
    const ids = fleet.devices.map((d) => d.deviceId!);
    const ours = new Set(fleet.devices.map((d) => d.unitId));
    const onVictim = new Set(victimProcess.jsonLines().filter((l) => l.event === "device-connected" && ours.has(String(l.unitId))).map((l) => String(l.unitId)));
    if (onVictim.size === 0) throw new Error(`the ALB placed none of the ${DEVICES} devices on ${victim.name}: round robin over two healthy targets should`);
    const sessionsBefore = new Map(fleet.devices.map((d) => [d.unitId, d.stats.sessions]));

    // Healthy when it dies (a check that timed out on a busy machine may have flapped it), so the transition measured is the kill's.
    const target = `${victim.host}:${victim.port}`;
    await poll(`target ${target} healthy before the kill`, 20_000, () => (lastTransition(t.albLogsDir!, target)?.to === "healthy" ? true : undefined));
    const before = await imiVictim.command("settings2tc", ids, { "ha.phase": "before" });
    const killedAt = Date.now();
    await victimProcess.kill();
    const during = await imiSurvivor.command("settings2tc", ids, { "ha.phase": "during" });

    const unhealthyAt = await poll(`target ${target} unhealthy`, boundMs, () => {
      const last = lastTransition(t.albLogsDir!, target);
      return last?.to === "unhealthy" ? Math.max(last.at, killedAt) : undefined;
    });
    // Back: every device online, and each one the dead server held on a new session.
    const backAt = await poll(`every device back online after ${victim.name} died`, boundMs, () =>
      fleet.devices.every((d) => d.state === "online" && (!onVictim.has(d.unitId) || d.stats.sessions > sessionsBefore.get(d.unitId)!)) ? Date.now() : undefined,
    );
    const all = [...before, ...during].map((c) => c.exec_id);
    const finished: ImiCommandExec[] = [];
    for (const id of all) finished.push(await imiSurvivor.waitForCommand(id, boundMs));
    const failed = finished.filter((c) => c.state !== "SUCCESS");
    const notOnce = all.filter((id) => executed.get(id) !== 1);
    const evidence = {
      detail:
        `${victim.name} killed with ${onVictim.size} of ${DEVICES} devices; its target unhealthy after ${unhealthyAt - killedAt} ms ` +
        `(interval ${hc.intervalSeconds} s × threshold ${hc.unhealthyThreshold} at scale ${ALB_HEALTH_CHECK_SCALE}: ${Math.round(detectMs)} ms), every device back in ${backAt - killedAt} ms (bound ${Math.round(boundMs)} ms); ` +
        `${all.length} commands (${before.length} queued on ${victim.name} before, ${during.length} on ${survivor.name} during): ${finished.length - failed.length} SUCCESS, ` +
        `${all.length - notOnce.length} executed exactly once, ${resent} resent after the failover and de-duplicated by the device`,
    };
    if (failed.length > 0 || notOnce.length > 0) {
      throw new Error(`${evidence.detail}; not exactly once: ${notOnce.map((id) => `${id}×${executed.get(id) ?? 0}`).join(", ")}; not SUCCESS: ${failed.map((c) => `${c.exec_id} ${c.state}`).join(", ")}`);
    }
    return { outcome: { kind: "ok" }, evidence };
  } finally {
    await fleet.stop();
  }
};
