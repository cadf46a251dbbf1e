#!/usr/bin/env node
/**
 * A device fleet as its own process (the benches and the loopback runtime spawn it):
 *   node dist/simulator/device/main.js --pki DIR --cluster-url URL --count N --enrollment-keys-file F
 * Writes JSON lines on stdout: `started`, one line per device event (unless --events summary),
 * `settled` with the fleet's stats once every device has settled, and `stats` when it stops
 * (SIGTERM/SIGINT, or at once with --exit-when-settled). Exit 2 on options the user can fix.
 */
import * as fs from "node:fs";
import type { Command } from "commander";
import type { LabDeviceKind } from "../pki";
import { isUserError, UserError } from "../../core/errors";
import { entryAction, runEntry } from "../common/process-entry";
import { commandFromSpec } from "../common/flags";
import { DeviceFleet, DeviceFleetOptions, DeviceIdentityInput, StartedDeviceFleet } from "./device-fleet";
import type { DeviceEvent } from "./fake-device";
import { DEVICES_FLAGS, DeviceFleetProcessOptions, DevicesStartedLine, LAB_DEVICE_KINDS } from "./process-options";

type FleetProcessFlags = DeviceFleetProcessOptions;

function identities(flags: FleetProcessFlags): DeviceIdentityInput[] {
  const out: DeviceIdentityInput[] = [];
  for (const kind of flags.identities ?? []) {
    if (!LAB_DEVICE_KINDS.includes(kind)) throw new UserError(`--identity: '${kind}' is not a lab device; use one of ${LAB_DEVICE_KINDS.join(", ")}`);
    out.push({ kind: kind as LabDeviceKind });
  }
  for (const spec of flags.identityFiles ?? []) {
    const [certFile, keyFile, chainFile] = spec.split(",");
    if (!certFile || !keyFile) throw new UserError(`--identity-files: '${spec}' must be CERT,KEY[,CHAIN]`);
    out.push({ certFile, keyFile, chainFile });
  }
  return out;
}

function keys(flags: FleetProcessFlags): string[] {
  const fromFile = flags.enrollmentKeysFile
    ? (() => {
        try {
          return fs
            .readFileSync(flags.enrollmentKeysFile, "utf8")
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter((l) => l && !l.startsWith("#"));
        } catch (e) {
          throw new UserError(`--enrollment-keys-file: cannot read '${flags.enrollmentKeysFile}' (${(e as NodeJS.ErrnoException).code})`);
        }
      })()
    : [];
  return [...(flags.enrollmentKeys ?? []), ...fromFile];
}

const line = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");

/** The fleet's option names, as this entry's flags spell them (for messages). */
const FLAG_OF: Record<string, string> = {
  count: "--count",
  identities: "--identity",
  clusterUrl: "--cluster-url",
  enrollmentUrl: "--enrollment-url",
  keyPoolSize: "--key-pool-size",
  startConcurrency: "--start-concurrency",
};

async function startFleet(options: DeviceFleetOptions): Promise<StartedDeviceFleet> {
  try {
    return await new DeviceFleet(options).start();
  } catch (e) {
    if (!isUserError(e)) throw e;
    throw new UserError(e.message.replace(/'(\w+)'/g, (whole, name: string) => (FLAG_OF[name] ? `'${FLAG_OF[name]}'` : whole)));
  }
}

export async function runDeviceFleetProcess(flags: FleetProcessFlags): Promise<void> {
  const [app, version] = flags.app ? flags.app.split("@") : [];
  if (flags.app && (!app || !version)) throw new UserError(`--app: '${flags.app}' must be APP@VERSION, e.g. chromium@120.0`);
  const verbose = flags.events !== "summary";
  let fleet: StartedDeviceFleet | undefined;
  const downloaded = new Set<string>();
  const downloads = new Set<Promise<void>>();
  const onEvent = (e: DeviceEvent) => {
    if (verbose) line({ event: "device", ...e });
    const device = fleet?.device(e.unitId);
    if (app && device && e.type === "online" && !downloaded.has(e.unitId)) {
      downloaded.add(e.unitId);
      const download = device.downloadApp(app, version).then((o) => void line({ event: "app-download", unitId: e.unitId, app, version, ...o }));
      downloads.add(download);
      void download.finally(() => downloads.delete(download));
    }
  };
  fleet = await startFleet({
    pki: flags.pki,
    clusterUrl: flags.clusterUrl,
    enrollmentUrl: flags.enrollmentUrl,
    serverName: flags.serverName,
    trustedCaFile: flags.caFile,
    count: flags.count ?? 0,
    enrollmentKeys: keys(flags),
    identities: identities(flags),
    keyPoolSize: flags.keyPoolSize,
    firmware: flags.firmware,
    unitBase: flags.unitBase,
    bootMs: flags.bootMs,
    heartbeatMs: flags.heartbeatMs,
    backoff: flags.backoffInitialMs || flags.backoffMaxMs ? { initialMs: flags.backoffInitialMs, maxMs: flags.backoffMaxMs } : undefined,
    maxAttempts: flags.maxAttempts,
    startConcurrency: flags.startConcurrency,
    handshakeTimeoutMs: flags.handshakeTimeoutMs,
    onEvent,
  });
  const started = fleet;
  const startedLine: DevicesStartedLine = { event: "started", component: "devices", pid: process.pid, devices: started.devices.length };
  line(startedLine);
  await new Promise<void>((resolve) => {
    let settledOnce = false;
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      // Downloads under way finish (or fail) first, so `stats` is the last line.
      Promise.allSettled([...downloads])
        .then(() => started.stop())
        .then(() => {
          const perDevice = started.perDevice.map((s) => ({ unitId: s.unitId, state: s.state, onboardingMs: s.onboardingMs, lastRefusal: s.refusals[s.refusals.length - 1] }));
          line({ event: "stats", ...started.stats(), perDevice });
          resolve();
        });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    started
      .waitForSettled(24 * 3_600_000)
      .then(() => {
        if (settledOnce) return;
        settledOnce = true;
        line({ event: "settled", ...started.stats() });
        if (flags.exitWhenSettled) stop();
      })
      .catch(() => undefined);
  });
}

/** The command-line definition, shared by this entry and `ums-edge devices`; `label` prefixes error messages. */
export function deviceFleetCommand(name = "device-fleet", label = name): Command {
  return commandFromSpec(name, "run a fleet of fake IGEL OS 12 devices against a cluster address", DEVICES_FLAGS, runDeviceFleetProcess, (run) => entryAction(label, run));
}

if (require.main === module) runEntry(deviceFleetCommand());
