import { DeviceFleet } from "../../device/device-fleet";
import { BrowserClient, isWebAppPage } from "../../device/browser-client";
import { ROUTES } from "../../protocol/routes";
import { observeRefusal, tlsTerminator, Observation } from "../context";
import { fleetOptions, oneDeviceAttempt } from "./one-device";
import { connectionLogMark } from "../evidence-logs";
import type { Flow } from "./flow";

/** Flows of the main device fleet: onboarding, the management session, commands, app download, web app. */

/** What the flows after onboarding answer when onboarding failed (that cell already fails the run). */
const NO_FLEET: Observation = { outcome: { kind: "n/a" }, evidence: {}, skipped: "depends on the onboarding scenario, which failed" };

/** N devices onboard at the enrollment address and open their management sessions; they stay for the flows after. */
export const onboardingFlow: Flow = async (ctx) => {
  const { topology, imi } = ctx;
  const keys = await imi.mintEnrollmentKeys(ctx.deviceCount);
  ctx.fleet = await new DeviceFleet(fleetOptions(ctx.lab, topology, { count: ctx.deviceCount, enrollmentKeys: keys })).start();
  try {
    await ctx.fleet.waitForOnline(ctx.deviceCount, 30_000);
  } catch {
    const refused = ctx.fleet.devices.find((d) => d.lastRefusal);
    if (refused?.lastRefusal) return observeRefusal(ctx, refused.lastRefusal);
    return { outcome: { kind: "http", by: tlsTerminator(topology), status: 0 }, evidence: { detail: `only ${ctx.fleet.onlineCount} of ${ctx.deviceCount} devices came online` } };
  }
  for (const d of ctx.fleet.perDevice) if (d.onboardingMs !== undefined) ctx.onboardingMs.push(d.onboardingMs);
  const s = ctx.fleet.stats().onboardingMs;
  return { outcome: { kind: "ok" }, evidence: { detail: `${ctx.deviceCount} devices onboarded at ${topology.devices.enrollmentUrl} and online at ${topology.devices.clusterUrl}; onboarding p50 ${s.p50} ms` } };
};

/** One device enrolls on the cluster address (8443) instead: in ALB verify mode 8443 requires a certificate it does not have yet. */
export const onboardingOn8443Flow: Flow = async (ctx) => {
  const { topology } = ctx;
  const [key] = await ctx.imi.mintEnrollmentKeys(1);
  const mark = connectionLogMark(topology);
  return oneDeviceAttempt(ctx, topology, { enrollmentUrl: topology.devices.clusterUrl, enrollmentKeys: [key], unitBase: 0xe000 }, { whenOnline: `onboarded at ${topology.devices.clusterUrl} and online`, logMark: mark });
};

/** Every device of the fleet holds its WebSocket and gets its heartbeats acknowledged. */
export const managementSessionFlow: Flow = async (ctx) => {
  const fleet = ctx.fleet;
  if (!fleet) return NO_FLEET;
  await fleet.waitFor(() => fleet.stats().heartbeatsAcked >= fleet.devices.length, 15_000, "a heartbeat acknowledged per device").catch(() => undefined);
  const stats = fleet.stats();
  const listed = await ctx.imi.thinclients();
  const online = listed.filter((t) => t.online && fleet.devices.some((d) => d.deviceId === t.id)).length;
  const evidence = { detail: `${fleet.onlineCount} devices online, UMS lists ${online} online, ${stats.heartbeatsAcked} heartbeats acknowledged` };
  return fleet.onlineCount === fleet.devices.length && online === fleet.devices.length && stats.heartbeatsAcked > 0
    ? { outcome: { kind: "ok" }, evidence }
    : { outcome: { kind: "http", by: "ums", status: 0 }, evidence };
};

function roundTrip(e: { queuedAt?: string; finishedAt?: string }): number | undefined {
  return e.queuedAt && e.finishedAt ? Date.parse(e.finishedAt) - Date.parse(e.queuedAt) : undefined;
}

/** A command through the IMI API to every device; all must report SUCCESS exactly once. */
function commandFlow(command: "reboot" | "settings2tc", settings?: Record<string, string>): Flow {
  return async (ctx) => {
    const fleet = ctx.fleet;
    if (!fleet) return NO_FLEET;
    await fleet.waitForOnline(fleet.devices.length, 15_000).catch(() => undefined);
    const ids = fleet.devices.map((d) => d.deviceId!);
    const execs = await ctx.imi.command(command, ids, settings);
    const finished = await Promise.all(execs.map((e) => ctx.imi.waitForCommand(e.exec_id, 20_000).catch((err: Error) => ({ ...e, state: "TIMEOUT", message: err.message }))));
    const failed = finished.filter((f) => f.state !== "SUCCESS");
    for (const f of finished) {
      const ms = roundTrip(f);
      if (ms !== undefined && f.state === "SUCCESS") ctx.commandRoundTrips.push(ms);
    }
    if (command === "reboot") await fleet.waitForOnline(fleet.devices.length, 20_000).catch(() => undefined);
    const applied = settings ? fleet.devices.filter((d) => Object.entries(settings).every(([k, v]) => d.settings[k] === v)).length : fleet.devices.length;
    const duplicates = fleet.stats().duplicateDeliveries;
    const rtts = finished.map(roundTrip).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    const evidence = {
      detail: `${finished.length - failed.length}/${finished.length} SUCCESS, round trip median ${rtts[Math.floor(rtts.length / 2)] ?? "-"} ms${settings ? `, applied on ${applied} devices` : `, ${fleet.onlineCount} back online`}, ${duplicates} duplicate deliveries ignored`,
      reason: failed[0] ? `${failed[0].state}: ${failed[0].message}` : undefined,
    };
    const online = command !== "reboot" || fleet.onlineCount === fleet.devices.length;
    return failed.length === 0 && applied === fleet.devices.length && online ? { outcome: { kind: "ok" }, evidence } : { outcome: { kind: "http", by: "ums", status: 0 }, evidence };
  };
}

export const rebootFlow = commandFlow("reboot");
export const settingsFlow = commandFlow("settings2tc", { "sessions.browser.start_page": "https://ums-edge.example/welcome" });

/** One device downloads an app from the update proxy and checks its digest. */
export const appDownloadFlow: Flow = async (ctx) => {
  const device = ctx.fleet?.devices[0];
  if (!device) return NO_FLEET;
  const outcome = await device.downloadApp("chromium", "120.0.1");
  if ("source" in outcome) {
    // The update proxy said it is not available here (the ICG does, by design): the device went to the App Portal.
    const proxy = await observeRefusal(ctx, outcome.proxyRefusal);
    const by = proxy.outcome.kind === "http" ? proxy.outcome.by : tlsTerminator(ctx.topology);
    const portal = outcome.ok ? `downloaded from the App Portal (${outcome.bytes} bytes)` : `App Portal: ${outcome.reason}`;
    return { outcome: { kind: "unsupported", by }, evidence: { ...proxy.evidence, detail: `update proxy refused; ${portal}` } };
  }
  if (outcome.ok) return { outcome: { kind: "ok" }, evidence: { detail: `${outcome.bytes} bytes, SHA-256 ${outcome.sha256.slice(0, 16)}… matches the announced digest` } };
  return observeRefusal(ctx, outcome.refusal);
};

/** A browser without a client certificate opens both web-app paths. */
export const webAppFlow: Flow = async (ctx) => {
  const { devices } = ctx.topology;
  const browser = new BrowserClient({ baseUrl: devices.webAppUrl, trustedCaFile: devices.trustedCaFile, serverName: devices.serverName });
  for (const path of [ROUTES.webApp, ROUTES.legacyWebApp]) {
    const page = await browser.get(path);
    if (!page.ok) return observeRefusal(ctx, page.refusal);
    if (!isWebAppPage(page)) {
      return { outcome: { kind: "http", by: tlsTerminator(ctx.topology), status: page.status }, evidence: { status: page.status, detail: `${path}: ${page.contentType ?? ""} ${page.body.slice(0, 160)}` } };
    }
  }
  return { outcome: { kind: "ok" }, evidence: { status: 200, detail: `${ROUTES.webApp} and ${ROUTES.legacyWebApp} served at ${devices.webAppUrl}` } };
};
