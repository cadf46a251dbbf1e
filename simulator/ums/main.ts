#!/usr/bin/env node
/**
 * The mock UMS as its own process (the loopback runtime spawns it):
 *   node dist/simulator/ums/main.js --pki DIR [--app-config FILE] [--host H] [--port N] ...
 * Prints ONE JSON line on stdout when ready (its endpoints); logs JSON lines on stderr; stops
 * cleanly on SIGTERM/SIGINT. Exit 2 on a configuration the user can fix.
 */
import * as fs from "node:fs";
import { Command, Option } from "commander";
import { MockUms, DEFAULT_ADMIN } from "./mock-ums";
import { UserError } from "../../core/errors";
import { integerFlag, serveUntilSignal, entryAction, runEntry } from "../common/process-entry";

interface UmsProcessFlags {
  pki: string;
  appConfig?: string;
  host: string;
  port: string;
  enrollmentKey: string[];
  enrollmentKeysFile?: string;
  heartbeatMs?: string;
  helloTimeoutMs?: string;
  clusterAddress?: string;
  adminUser: string;
  adminPassword?: string;
  appSize?: string;
  crl: boolean;
  quiet: boolean;
  icg?: string;
  icgServerName?: string;
  icgCaFile?: string;
}


function readKeysFile(file: string): string[] {
  try {
    return fs
      .readFileSync(file, "utf8")
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
  } catch (e) {
    throw new UserError(`--enrollment-keys-file: cannot read '${file}' (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** Starts the UMS and resolves once it has stopped after a signal. */
export async function runMockUmsProcess(flags: UmsProcessFlags): Promise<void> {
  if (!flags.icg && (flags.icgServerName || flags.icgCaFile)) throw new UserError("--icg-server-name and --icg-ca-file apply to the ICG tunnel: give --icg URL too");
  const started = await new MockUms({
    pki: flags.pki,
    appConfigFile: flags.appConfig,
    host: flags.host,
    port: integerFlag("--port", flags.port, 0, 65535),
    enrollmentKeys: [...flags.enrollmentKey, ...(flags.enrollmentKeysFile ? readKeysFile(flags.enrollmentKeysFile) : [])],
    heartbeatMs: integerFlag("--heartbeat-ms", flags.heartbeatMs, 10, 3_600_000),
    helloTimeoutMs: integerFlag("--hello-timeout-ms", flags.helloTimeoutMs, 10, 3_600_000),
    clusterAddress: flags.clusterAddress,
    admin: { username: flags.adminUser, password: flags.adminPassword ?? process.env.UMS_EDGE_ADMIN_PASSWORD ?? DEFAULT_ADMIN.password },
    appSizeBytes: integerFlag("--app-size", flags.appSize, 1, 512 * 1024 * 1024),
    checkRevocation: flags.crl,
    logSink: flags.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
    icg: flags.icg ? { url: flags.icg, serverName: flags.icgServerName, trustedCaFile: flags.icgCaFile } : undefined,
  }).start();
  await serveUntilSignal({ event: "ready", component: "ums", pid: process.pid, ...started.endpoints, adminUser: flags.adminUser }, () => started.stop());
}

/** The command-line definition, shared by this entry and `ums-edge ums`; `label` prefixes error messages. */
export function mockUmsCommand(name = "mock-ums", label = name): Command {
  return new Command(name)
    .description("run the mock UMS 12 (HTTPS with the web certificate, onboarding, device WebSocket, IMI API, update proxy, web app)")
    .requiredOption("--pki <dir>", "lab PKI directory (ums-edge pki init)")
    .option("--app-config <file>", "the UMS application.yml (igel.client-cert-forwarding); default: forwarding off")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free port)", "8443")
    .option("--enrollment-key <key>", "a one-time enrollment key valid from the start (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--enrollment-keys-file <file>", "more one-time enrollment keys, one a line")
    .option("--heartbeat-ms <n>", "heartbeat interval told to devices (default 30000)")
    .option("--hello-timeout-ms <n>", "how long a device socket may wait before its hello (default 10000)")
    .option("--cluster-address <url>", "cluster address returned at onboarding (default https://<fqdn>:<port>)")
    .option("--admin-user <name>", "IMI user", DEFAULT_ADMIN.username)
    .addOption(new Option("--admin-password <password>", "IMI password (or env UMS_EDGE_ADMIN_PASSWORD; default ums-edge-lab)"))
    .option("--app-size <bytes>", "size of each app the update proxy serves (default 262144)")
    .option("--no-crl", "do not check device certificates against the lab CRL")
    .option("--quiet", "no log lines on stderr", false)
    .option("--icg <url>", "icg topology: connect out to this ICG (https://host:port) and serve the devices it relays")
    .option("--icg-server-name <name>", "name the ICG certificate must carry (default icg.<fqdn>)")
    .option("--icg-ca-file <file>", "CA the ICG certificate must chain to (default: the lab web root CA)")
    .action(entryAction<UmsProcessFlags>(label, runMockUmsProcess));
}

if (require.main === module) runEntry(mockUmsCommand());
