/**
 * `node dist/scripts/bench/icg-latency.js` (after `npm run build`): onboarding time and command
 * round trip through the ICG against the direct topology — the connection-options document says
 * the ICG adds latency and lengthens command execution. A measurement, not a test: the figures are
 * printed and written to reports/bench/icg-latency.json; nothing is asserted.
 *
 * The UMS and the ICG run as their own processes (built entries), the devices in this process, all
 * on loopback with the same lab PKI. Per topology: `--devices N` devices onboard one at a time
 * (default 10), then `--commands M` settings2tc commands go out one at a time, round-robin over
 * the devices (default 100). Figures per topology:
 *   onboarding      device's CSR out → certificate back (device's clock)
 *   round trip      the UMS's own record: queued → result received (ms resolution, so the mean
 *                   over many samples is the figure to read)
 *   delivery        IMI POST sent → the device executes it (this process's clock)
 */
import * as os from "node:os";
import * as path from "node:path";
import { initLabPki, LabPki } from "../../simulator/pki/lab-pki";
import { ImiClient } from "../../simulator/ums/imi-client";
import { DeviceFleet, StartedDeviceFleet } from "../../simulator/device";
import { percentiles, Percentiles } from "../../simulator/common/stats";
import type { DeviceEvent } from "../../simulator/device";
import { startProcess, stopProcess, stopAll, Started } from "./processes";
import { reportFigures, Figure } from "./report";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const DEVICES = flag("devices", 10);
const COMMANDS = flag("commands", 100);
const DIST = path.resolve(__dirname, "../..");

interface Measured {
  readonly onboardingMs: Percentiles;
  readonly roundTripMs: Percentiles;
  readonly deliveryMs: Percentiles;
}

function ready(p: Started): Record<string, unknown> {
  return JSON.parse(p.readyLine ?? "{}");
}

async function measure(topology: "direct" | "icg", pki: LabPki): Promise<Measured> {
  const entry = (component: string) => path.join(DIST, "simulator", component, "main.js");
  let icg: Started | undefined;
  let ums: Started | undefined;
  let fleet: StartedDeviceFleet | undefined;
  try {
    if (topology === "icg") icg = await startProcess("icg", process.execPath, [entry("icg"), "--pki", pki.dir, "--port", "0", "--quiet"], "line");
    const icgUrl = icg ? (ready(icg).url as string) : undefined;
    ums = await startProcess("ums", process.execPath, [entry("ums"), "--pki", pki.dir, "--port", "0", "--quiet", ...(icgUrl ? ["--icg", icgUrl] : [])], "line");
    const umsUrl = ready(ums).url as string;
    const imi = new ImiClient({ baseUrl: umsUrl, caFile: pki.web.rootCert, serverName: pki.fqdn });
    const executed = new Map<string, number>();
    fleet = await new DeviceFleet({
      pki,
      clusterUrl: icgUrl ?? umsUrl,
      count: DEVICES,
      enrollmentKeys: await imi.mintEnrollmentKeys(DEVICES),
      // One at a time: latency, not throughput.
      startConcurrency: 1,
      onEvent: (e: DeviceEvent) => {
        if (e.type === "command") executed.set(e.commandId, performance.now());
      },
    }).start();
    await fleet.waitForOnline(DEVICES, 60_000);
    const ids = fleet.devices.map((d) => d.deviceId!);
    // Warm-up: the first command per connection pays for lazy set-up on every hop.
    for (const id of ids) await imi.waitForCommand((await imi.command("settings2tc", [id], { warm: 1 }))[0].exec_id, 10_000, undefined, 2);

    const roundTrip: number[] = [];
    const delivery: number[] = [];
    for (let i = 0; i < COMMANDS; i++) {
      const sent = performance.now();
      const [exec] = await imi.command("settings2tc", [ids[i % ids.length]], { n: i });
      const done = await imi.waitForCommand(exec.exec_id, 10_000, undefined, 2);
      roundTrip.push(Date.parse(done.finishedAt!) - Date.parse(done.queuedAt!));
      delivery.push(executed.get(exec.exec_id)! - sent);
    }
    return { onboardingMs: fleet.stats().onboardingMs, roundTripMs: percentiles(roundTrip), deliveryMs: percentiles(delivery) };
  } finally {
    await fleet?.stop();
    await stopProcess(ums);
    await stopProcess(icg);
  }
}

async function main(): Promise<void> {
  process.on("SIGINT", () => {
    stopAll();
    process.exit(130);
  });
  const pki = await initLabPki(path.join(os.tmpdir(), "ums-edge-bench", "pki"));
  const direct = await measure("direct", pki);
  const icg = await measure("icg", pki);
  const figures: Figure[] = [];
  for (const [name, unit, pick] of [
    ["onboarding p50", "ms", (m: Measured) => m.onboardingMs.p50],
    ["onboarding mean", "ms", (m: Measured) => m.onboardingMs.mean],
    ["command round trip mean (UMS record)", "ms", (m: Measured) => m.roundTripMs.mean],
    ["command round trip p95 (UMS record)", "ms", (m: Measured) => m.roundTripMs.p95],
    ["command delivery p50 (POST → device)", "ms", (m: Measured) => m.deliveryMs.p50],
    ["command delivery mean (POST → device)", "ms", (m: Measured) => m.deliveryMs.mean],
  ] as const) {
    figures.push({ name: `direct: ${name}`, value: pick(direct) ?? NaN, unit });
    figures.push({ name: `icg:    ${name}`, value: pick(icg) ?? NaN, unit });
  }
  const ratio = (a?: number, b?: number) => (a && b ? Math.round((b / a) * 100) / 100 : NaN);
  figures.push({ name: "icg / direct: onboarding mean", value: ratio(direct.onboardingMs.mean, icg.onboardingMs.mean), unit: "x" });
  figures.push({ name: "icg / direct: command round trip mean", value: ratio(direct.roundTripMs.mean, icg.roundTripMs.mean), unit: "x" });
  figures.push({ name: "icg / direct: command delivery mean", value: ratio(direct.deliveryMs.mean, icg.deliveryMs.mean), unit: "x" });
  reportFigures("icg-latency", figures, { devices: DEVICES, commands: COMMANDS, cores: os.cpus().length, node: process.version, direct, icg });
}

main().catch((e) => {
  stopAll();
  process.stderr.write(`icg-latency: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
