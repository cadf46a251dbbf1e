#!/usr/bin/env node
/**
 * The ICG as its own process (the loopback runtime spawns it):
 *   node dist/simulator/icg/main.js --pki DIR [--app-config FILE] [--host H] [--port N] ...
 * Prints ONE JSON line on stdout when ready (its endpoints); logs JSON lines on stderr; stops
 * cleanly on SIGTERM/SIGINT. Exit 2 on a configuration the user can fix.
 */
import type { Command } from "commander";
import { Icg } from "./icg";
import { UserError } from "../../core/errors";
import { serveUntilSignal, entryAction, runEntry } from "../common/process-entry";
import { commandFromSpec } from "../common/flags";
import { ICG_FLAGS, IcgProcessOptions, IcgReadyLine } from "./process-options";

/** Starts the ICG and resolves once it has stopped after a signal. */
export async function runIcgProcess(o: IcgProcessOptions): Promise<void> {
  if ((o.certChain === undefined) !== (o.certKey === undefined)) throw new UserError("--cert-chain and --cert-key go together: give both, or neither for the lab's ICG certificate");
  const started = await new Icg({
    pki: o.pki,
    appConfigFile: o.appConfig,
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 8443,
    certificate: o.certChain && o.certKey ? { chainFile: o.certChain, keyFile: o.certKey } : undefined,
    umsTrustedCaFile: o.umsCaFile,
    relayTimeoutMs: o.relayTimeoutMs,
    tunnelPingMs: o.tunnelPingMs,
    logSink: o.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
  }).start();
  const ready: IcgReadyLine = { event: "ready", component: "icg", pid: process.pid, ...started.endpoints };
  await serveUntilSignal(ready, () => started.stop());
}

/** The command-line definition, shared by this entry and `ums-edge icg`; `label` prefixes error messages. */
export function icgCommand(name = "icg", label = name): Command {
  return commandFromSpec(name, "run the IGEL Cloud Gateway (devices and the UMS connect to it; it relays onboarding and device sessions over the UMS's tunnel)", ICG_FLAGS, runIcgProcess, (run) => entryAction(label, run));
}

if (require.main === module) runEntry(icgCommand());
