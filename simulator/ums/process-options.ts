import { FlagSpec, OptionsOf, toArgs } from "../common/flags";
import type { UmsEndpoints } from "./mock-ums";

/**
 * The mock UMS as a process: its flags (declared once: the entry, `ums-edge ums`, the launchers and
 * the container module all use this), its options, and the ready line it prints.
 */
export const UMS_FLAGS = {
  pki: { flag: "--pki", kind: "string", value: "<dir>", required: true, description: "lab PKI directory (ums-edge pki init)" },
  appConfig: { flag: "--app-config", kind: "string", value: "<file>", description: "the UMS application.yml (igel.client-cert-forwarding); default: forwarding off" },
  host: { flag: "--host", kind: "string", value: "<host>", description: "address to listen on", defaultText: "127.0.0.1" },
  port: { flag: "--port", kind: "integer", value: "<n>", min: 0, max: 65535, description: "port to listen on (0: any free port)", defaultText: "8443" },
  db: {
    flag: "--db",
    kind: "string",
    value: "<file|url>",
    description: "where devices, enrollment keys and commands are kept: a SQLite file (a restart loses nothing), or postgresql://... shared by the servers of a cluster",
    defaultText: "in memory (the lab gives <lab dir>/ums.sqlite)",
  },
  enrollmentKeys: { flag: "--enrollment-key", kind: "list", value: "<key>", description: "a one-time enrollment key valid from the start (repeatable)" },
  enrollmentKeysFile: { flag: "--enrollment-keys-file", kind: "string", value: "<file>", description: "more one-time enrollment keys, one a line" },
  heartbeatMs: { flag: "--heartbeat-ms", kind: "integer", value: "<n>", min: 10, max: 3_600_000, description: "heartbeat interval told to devices", defaultText: "30000" },
  helloTimeoutMs: { flag: "--hello-timeout-ms", kind: "integer", value: "<n>", min: 10, max: 3_600_000, description: "how long a device socket may wait before its hello", defaultText: "10000" },
  clusterAddress: { flag: "--cluster-address", kind: "string", value: "<url>", description: "cluster address returned at onboarding (default https://<fqdn>:<port>)" },
  adminUser: { flag: "--admin-user", kind: "string", value: "<name>", description: "IMI user", defaultText: "admin" },
  adminPassword: { flag: "--admin-password", kind: "string", value: "<password>", description: "IMI password (or env UMS_EDGE_ADMIN_PASSWORD; default: a random one, printed in the ready line)" },
  appSizeBytes: { flag: "--app-size", kind: "integer", value: "<bytes>", min: 1, max: 512 * 1024 * 1024, description: "size of each app the update proxy serves", defaultText: "262144" },
  checkRevocation: { flag: "--no-check-revocation", kind: "boolean", description: "do not check device certificates against the lab CRL" },
  quiet: { flag: "--quiet", kind: "boolean", description: "no log lines on stderr" },
  icgUrl: { flag: "--icg", kind: "string", value: "<url>", description: "icg topology: connect out to this ICG (https://host:port) and serve the devices it relays" },
  icgServerName: { flag: "--icg-server-name", kind: "string", value: "<name>", description: "name the ICG certificate must carry (default icg.<fqdn>)" },
  icgCaFile: { flag: "--icg-ca-file", kind: "string", value: "<file>", description: "CA the ICG certificate must chain to (default: the lab gateway CA)" },
} as const satisfies FlagSpec;

export type UmsProcessOptions = OptionsOf<typeof UMS_FLAGS>;

/** The command line that starts a mock UMS with these options (the inverse of its flag parser). */
export function umsArgs(options: UmsProcessOptions): string[] {
  return toArgs(UMS_FLAGS, options);
}

/** What the mock UMS prints on stdout when it is ready: its endpoints. */
export type UmsReadyLine = UmsEndpoints & {
  readonly event: "ready";
  readonly component: "ums";
  readonly pid: number;
  readonly adminUser: string;
  /** Only when the UMS made the password up (no --admin-password, no UMS_EDGE_ADMIN_PASSWORD). */
  readonly adminPassword?: string;
};
