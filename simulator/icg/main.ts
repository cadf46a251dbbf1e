#!/usr/bin/env node
/**
 * The ICG as its own process (the loopback runtime spawns it):
 *   node dist/simulator/icg/main.js --pki DIR [--app-config FILE] [--host H] [--port N] ...
 * Prints ONE JSON line on stdout when ready (its endpoints); logs JSON lines on stderr; stops
 * cleanly on SIGTERM/SIGINT. Exit 2 on a configuration the user can fix.
 */
import { Command } from "commander";
import { Icg } from "./icg";
import { UserError } from "../../core/errors";
import { integerFlag, serveUntilSignal, entryAction, runEntry } from "../common/process-entry";

interface IcgProcessFlags {
  pki: string;
  appConfig?: string;
  host: string;
  port: string;
  certChain?: string;
  certKey?: string;
  umsCaFile?: string;
  relayTimeoutMs?: string;
  tunnelPingMs?: string;
  quiet: boolean;
}


/** Starts the ICG and resolves once it has stopped after a signal. */
export async function runIcgProcess(flags: IcgProcessFlags): Promise<void> {
  if ((flags.certChain === undefined) !== (flags.certKey === undefined)) throw new UserError("--cert-chain and --cert-key go together: give both, or neither for the lab's ICG certificate");
  const started = await new Icg({
    pki: flags.pki,
    appConfigFile: flags.appConfig,
    host: flags.host,
    port: integerFlag("--port", flags.port, 0, 65535),
    certificate: flags.certChain && flags.certKey ? { chainFile: flags.certChain, keyFile: flags.certKey } : undefined,
    umsTrustedCaFile: flags.umsCaFile,
    relayTimeoutMs: integerFlag("--relay-timeout-ms", flags.relayTimeoutMs, 10, 3_600_000),
    tunnelPingMs: integerFlag("--tunnel-ping-ms", flags.tunnelPingMs, 10, 3_600_000),
    logSink: flags.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
  }).start();
  await serveUntilSignal({ event: "ready", component: "icg", pid: process.pid, ...started.endpoints }, () => started.stop());
}

/** The command-line definition, shared by this entry and `ums-edge icg`; `label` prefixes error messages. */
export function icgCommand(name = "icg", label = name): Command {
  return new Command(name)
    .description("run the IGEL Cloud Gateway (devices and the UMS connect to it; it relays onboarding and device sessions over the UMS's tunnel)")
    .requiredOption("--pki <dir>", "lab PKI directory (ums-edge pki init): the ICG certificate and the UMS web root CA")
    .option("--app-config <file>", "an application.yml with igel.client-cert-forwarding (behind an ALB); default: forwarding off")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free port)", "8443")
    .option("--cert-chain <file>", "certificate chain the ICG presents, leaf first (default: the lab's ICG certificate)")
    .option("--cert-key <file>", "its private key")
    .option("--ums-ca-file <file>", "CA a UMS's client certificate must chain to (default: the lab UMS web root CA)")
    .option("--relay-timeout-ms <n>", "how long a relayed request, session open or UMS registration may take (default 15000)")
    .option("--tunnel-ping-ms <n>", "ping interval on the UMS tunnel (default 10000)")
    .option("--quiet", "no log lines on stderr", false)
    .action(entryAction<IcgProcessFlags>(label, runIcgProcess));
}

if (require.main === module) runEntry(icgCommand());
