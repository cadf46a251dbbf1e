#!/usr/bin/env node
/**
 * The ICG as its own process (the loopback runtime spawns it):
 *   node dist/simulator/icg/main.js --pki DIR [--app-config FILE] [--host H] [--port N] ...
 * Prints ONE JSON line on stdout when ready (its endpoints); logs JSON lines on stderr; stops
 * cleanly on SIGTERM/SIGINT. Exit 2 on a configuration the user can fix.
 */
import { Command } from "commander";
import { Icg } from "./icg";
import { isUserError, UserError } from "../protocol/user-error";

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

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`${flag}: '${text}' is not an integer from ${min} to ${max}`);
  return n;
}

/** Starts the ICG and resolves once it has stopped after a signal. */
export async function runIcgProcess(flags: IcgProcessFlags): Promise<void> {
  if ((flags.certChain === undefined) !== (flags.certKey === undefined)) throw new UserError("--cert-chain and --cert-key go together: give both, or neither for the lab's ICG certificate");
  const started = await new Icg({
    pki: flags.pki,
    appConfigFile: flags.appConfig,
    host: flags.host,
    port: integer("--port", flags.port, 0, 65535),
    certificate: flags.certChain && flags.certKey ? { chainFile: flags.certChain, keyFile: flags.certKey } : undefined,
    umsTrustedCaFile: flags.umsCaFile,
    relayTimeoutMs: integer("--relay-timeout-ms", flags.relayTimeoutMs, 10, 3_600_000),
    tunnelPingMs: integer("--tunnel-ping-ms", flags.tunnelPingMs, 10, 3_600_000),
    logSink: flags.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
  }).start();
  process.stdout.write(JSON.stringify({ event: "ready", component: "icg", pid: process.pid, ...started.endpoints }) + "\n");
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      started.stop().then(resolve, resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
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
    .action(async (flags: IcgProcessFlags) => {
      try {
        await runIcgProcess(flags);
        process.exitCode = 0;
      } catch (e) {
        process.stderr.write(isUserError(e) ? `${label}: ${e.message}\n` : `${label}: internal error: ${(e as Error).stack ?? e}\n`);
        process.exitCode = isUserError(e) ? e.exitCode : 1;
      }
    });
}

if (require.main === module) {
  icgCommand()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parseAsync(process.argv);
}
