import { FlagSpec, OptionsOf, toArgs } from "../common/flags";
import { BAD_DEVICE_KINDS } from "../pki/lab-pki";

/** A device fleet as a process: its flags (declared once), its options, and the lines it prints. */

export const LAB_DEVICE_KINDS: readonly string[] = ["good", ...BAD_DEVICE_KINDS];

export const DEVICES_FLAGS = {
  pki: { flag: "--pki", kind: "string", value: "<dir>", required: true, description: "lab PKI directory (web root CA, key pool, lab device certificates)" },
  clusterUrl: { flag: "--cluster-url", kind: "string", value: "<url>", required: true, description: "cluster address: management WebSocket and app downloads, e.g. https://127.0.0.1:8443" },
  enrollmentUrl: { flag: "--enrollment-url", kind: "string", value: "<url>", description: "OS 12 device enrollment address (default: the cluster URL)" },
  serverName: { flag: "--server-name", kind: "string", value: "<name>", description: "TLS server name (default: the lab PKI's FQDN)" },
  caFile: { flag: "--ca-file", kind: "string", value: "<file>", description: "CA devices trust for the server certificate (default: the lab web root)" },
  count: { flag: "--count", kind: "integer", value: "<n>", min: 0, description: "devices that onboard", defaultText: "0" },
  enrollmentKeys: { flag: "--enrollment-key", kind: "list", value: "<key>", description: "one-time enrollment key (repeatable; one per device)" },
  enrollmentKeysFile: { flag: "--enrollment-keys-file", kind: "string", value: "<file>", description: "one-time enrollment keys, one a line" },
  identities: { flag: "--identity", kind: "list", value: "<kind>", description: `a device with a lab certificate, no onboarding (repeatable): ${LAB_DEVICE_KINDS.join(", ")}` },
  identityFiles: { flag: "--identity-files", kind: "list", value: "<cert,key[,chain]>", description: "a device with your own certificate files (repeatable)" },
  keyPoolSize: { flag: "--key-pool-size", kind: "integer", value: "<n>", min: 1, description: "cached device keys to draw from (default: min(count, 64))" },
  firmware: { flag: "--firmware", kind: "string", value: "<version>", description: "firmware version devices report", defaultText: "12.7.1" },
  unitBase: { flag: "--unit-base", kind: "integer", value: "<n>", min: 0, max: 0xffffff, description: "MAC offset below IGEL's OUI (default: random)" },
  bootMs: { flag: "--boot-ms", kind: "integer", value: "<n>", min: 0, description: "simulated boot time after a reboot", defaultText: "2000" },
  heartbeatMs: { flag: "--heartbeat-ms", kind: "integer", value: "<n>", min: 10, max: 3_600_000, description: "the devices' own heartbeat interval (default: the one the UMS's welcome names)" },
  backoffInitialMs: { flag: "--backoff-initial-ms", kind: "integer", value: "<n>", min: 1, description: "first reconnect delay", defaultText: "1000" },
  backoffMaxMs: { flag: "--backoff-max-ms", kind: "integer", value: "<n>", min: 1, description: "largest reconnect delay", defaultText: "60000" },
  maxAttempts: { flag: "--max-attempts", kind: "integer", value: "<n>", min: 1, description: "consecutive failures before a device gives up (default: never; 1 for --identity devices)" },
  startConcurrency: { flag: "--start-concurrency", kind: "integer", value: "<n>", min: 1, description: "devices in their first onboarding/connect at once", defaultText: "16" },
  handshakeTimeoutMs: { flag: "--handshake-timeout-ms", kind: "integer", value: "<n>", min: 100, description: "timeout of onboarding and of TLS + upgrade + welcome", defaultText: "10000" },
  app: { flag: "--app", kind: "string", value: "<app@version>", description: "each device downloads this app once online and checks its digest" },
  events: { flag: "--events", kind: "string", value: "<all|summary>", choices: ["all", "summary"], description: "one line per device event, or summaries only", defaultText: "all" },
  exitWhenSettled: { flag: "--exit-when-settled", kind: "boolean", description: "print the stats and exit once every device has settled" },
} as const satisfies FlagSpec;

export type DeviceFleetProcessOptions = OptionsOf<typeof DEVICES_FLAGS>;

/** The command line that starts a device fleet with these options (the inverse of its flag parser). */
export function devicesArgs(options: DeviceFleetProcessOptions): string[] {
  return toArgs(DEVICES_FLAGS, options);
}

/** The first line a fleet prints once its devices are created. */
export interface DevicesStartedLine {
  readonly event: "started";
  readonly component: "devices";
  readonly pid: number;
  readonly devices: number;
}
