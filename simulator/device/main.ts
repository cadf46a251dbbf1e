#!/usr/bin/env node
/**
 * A device fleet as its own process (the benches and the loopback runtime spawn it):
 *   node dist/simulator/device/main.js --pki DIR --cluster-url URL --count N --enrollment-keys-file F
 * Writes JSON lines on stdout: `started`, one line per device event (unless --events summary),
 * `settled` with the fleet's stats once every device has settled, and `stats` when it stops
 * (SIGTERM/SIGINT, or at once with --exit-when-settled). Exit 2 on options the user can fix.
 */
import * as fs from "node:fs";
import { Command } from "commander";
import { BAD_DEVICE_KINDS, LabDeviceKind } from "../pki";
import { isUserError, UserError } from "../../core/errors";
import { integerFlag, entryAction, runEntry } from "../common/process-entry";
import { DeviceFleet, DeviceFleetOptions, DeviceIdentityInput, StartedDeviceFleet } from "./device-fleet";
import type { DeviceEvent } from "./fake-device";

interface FleetProcessFlags {
  pki: string;
  clusterUrl: string;
  enrollmentUrl?: string;
  serverName?: string;
  caFile?: string;
  count: string;
  enrollmentKey: string[];
  enrollmentKeysFile?: string;
  identity: string[];
  identityFiles: string[];
  keyPoolSize?: string;
  firmware?: string;
  unitBase?: string;
  bootMs?: string;
  backoffInitialMs?: string;
  backoffMaxMs?: string;
  maxAttempts?: string;
  startConcurrency?: string;
  handshakeTimeoutMs?: string;
  app?: string;
  events: string;
  exitWhenSettled: boolean;
}

const LAB_KINDS: readonly string[] = ["good", ...BAD_DEVICE_KINDS];


function identities(flags: FleetProcessFlags): DeviceIdentityInput[] {
  const out: DeviceIdentityInput[] = [];
  for (const kind of flags.identity) {
    if (!LAB_KINDS.includes(kind)) throw new UserError(`--identity: '${kind}' is not a lab device; use one of ${LAB_KINDS.join(", ")}`);
    out.push({ kind: kind as LabDeviceKind });
  }
  for (const spec of flags.identityFiles) {
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
  return [...flags.enrollmentKey, ...fromFile];
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
  if (!["all", "summary"].includes(flags.events)) throw new UserError(`--events: '${flags.events}' must be 'all' or 'summary'`);
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
    count: integerFlag("--count", flags.count, 0),
    enrollmentKeys: keys(flags),
    identities: identities(flags),
    keyPoolSize: integerFlag("--key-pool-size", flags.keyPoolSize, 1),
    firmware: flags.firmware,
    unitBase: integerFlag("--unit-base", flags.unitBase, 0, 0xffffff),
    bootMs: integerFlag("--boot-ms", flags.bootMs, 0),
    backoff:
      flags.backoffInitialMs || flags.backoffMaxMs
        ? { initialMs: integerFlag("--backoff-initial-ms", flags.backoffInitialMs, 1), maxMs: integerFlag("--backoff-max-ms", flags.backoffMaxMs, 1) }
        : undefined,
    maxAttempts: integerFlag("--max-attempts", flags.maxAttempts, 1),
    startConcurrency: integerFlag("--start-concurrency", flags.startConcurrency, 1),
    handshakeTimeoutMs: integerFlag("--handshake-timeout-ms", flags.handshakeTimeoutMs, 100),
    onEvent,
  });
  const started = fleet;
  line({ event: "started", component: "devices", pid: process.pid, devices: started.devices.length });
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
  const collect = (v: string, acc: string[]) => [...acc, v];
  return new Command(name)
    .description("run a fleet of fake IGEL OS 12 devices against a cluster address")
    .requiredOption("--pki <dir>", "lab PKI directory (web root CA, key pool, lab device certificates)")
    .requiredOption("--cluster-url <url>", "cluster address: management WebSocket and app downloads, e.g. https://127.0.0.1:8443")
    .option("--enrollment-url <url>", "OS 12 device enrollment address (default: the cluster URL)")
    .option("--server-name <name>", "TLS server name (default: the lab PKI's FQDN)")
    .option("--ca-file <file>", "CA devices trust for the server certificate (default: the lab web root)")
    .option("--count <n>", "devices that onboard", "0")
    .option("--enrollment-key <key>", "one-time enrollment key (repeatable; one per device)", collect, [] as string[])
    .option("--enrollment-keys-file <file>", "one-time enrollment keys, one a line")
    .option("--identity <kind>", `a device with a lab certificate, no onboarding (repeatable): ${LAB_KINDS.join(", ")}`, collect, [] as string[])
    .option("--identity-files <cert,key[,chain]>", "a device with your own certificate files (repeatable)", collect, [] as string[])
    .option("--key-pool-size <n>", "cached device keys to draw from (default: min(count, 64))")
    .option("--firmware <version>", "firmware version devices report (default 12.7.1)")
    .option("--unit-base <n>", "MAC offset below IGEL's OUI (default: random)")
    .option("--boot-ms <n>", "simulated boot time after a reboot (default 2000)")
    .option("--backoff-initial-ms <n>", "first reconnect delay (default 1000)")
    .option("--backoff-max-ms <n>", "largest reconnect delay (default 60000)")
    .option("--max-attempts <n>", "consecutive failures before a device gives up (default: never; 1 for --identity devices)")
    .option("--start-concurrency <n>", "devices in their first onboarding/connect at once (default 16)")
    .option("--handshake-timeout-ms <n>", "timeout of onboarding and of TLS + upgrade + welcome (default 10000)")
    .option("--app <app@version>", "each device downloads this app once online and checks its digest")
    .option("--events <all|summary>", "one line per device event, or summaries only", "all")
    .option("--exit-when-settled", "print the stats and exit once every device has settled", false)
    .action(entryAction<FleetProcessFlags>(label, runDeviceFleetProcess));
}

if (require.main === module) runEntry(deviceFleetCommand());
