import { FlagSpec, OptionsOf, toArgs } from "../common/flags";
import type { IcgEndpoints } from "./icg";

/** The ICG as a process: its flags (declared once), its options, and the ready line it prints. */
export const ICG_FLAGS = {
  pki: { flag: "--pki", kind: "string", value: "<dir>", required: true, description: "lab PKI directory (ums-edge pki init): the ICG certificate and the UMS web root CA" },
  appConfig: { flag: "--app-config", kind: "string", value: "<file>", description: "an application.yml with igel.client-cert-forwarding (behind an ALB); default: forwarding off" },
  host: { flag: "--host", kind: "string", value: "<host>", description: "address to listen on", defaultText: "127.0.0.1" },
  port: { flag: "--port", kind: "integer", value: "<n>", min: 0, max: 65535, description: "port to listen on (0: any free port)", defaultText: "8443" },
  certChain: { flag: "--cert-chain", kind: "string", value: "<file>", description: "certificate chain the ICG presents, leaf first (default: the lab's ICG certificate)" },
  certKey: { flag: "--cert-key", kind: "string", value: "<file>", description: "its private key" },
  umsCaFile: { flag: "--ums-ca-file", kind: "string", value: "<file>", description: "CA a UMS's client certificate must chain to (default: the lab gateway CA)" },
  relayTimeoutMs: { flag: "--relay-timeout-ms", kind: "integer", value: "<n>", min: 10, max: 3_600_000, description: "how long a relayed request, session open or UMS registration may take", defaultText: "15000" },
  tunnelPingMs: { flag: "--tunnel-ping-ms", kind: "integer", value: "<n>", min: 10, max: 3_600_000, description: "ping interval on the UMS tunnel", defaultText: "10000" },
  quiet: { flag: "--quiet", kind: "boolean", description: "no log lines on stderr" },
} as const satisfies FlagSpec;

export type IcgProcessOptions = OptionsOf<typeof ICG_FLAGS>;

/** The command line that starts an ICG with these options (the inverse of its flag parser). */
export function icgArgs(options: IcgProcessOptions): string[] {
  return toArgs(ICG_FLAGS, options);
}

/** What the ICG prints on stdout when it is ready: its endpoints. */
export type IcgReadyLine = IcgEndpoints & { readonly event: "ready"; readonly component: "icg"; readonly pid: number };
