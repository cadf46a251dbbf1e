#!/usr/bin/env node
/**
 * The mock UMS as its own process (the loopback runtime spawns it):
 *   node dist/simulator/ums/main.js --pki DIR [--app-config FILE] [--host H] [--port N] ...
 * Prints ONE JSON line on stdout when ready (its endpoints); logs JSON lines on stderr; stops
 * cleanly on SIGTERM/SIGINT. Exit 2 on a configuration the user can fix.
 */
import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { MockUms, DEFAULT_ADMIN } from "./mock-ums";
import { UserError } from "../../core/errors";
import { serveUntilSignal, entryAction, runEntry } from "../common/process-entry";
import { commandFromSpec } from "../common/flags";
import { UMS_FLAGS, UmsProcessOptions, UmsReadyLine } from "./process-options";

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
export async function runMockUmsProcess(o: UmsProcessOptions): Promise<void> {
  if (!o.icgUrl && (o.icgServerName || o.icgCaFile)) throw new UserError("--icg-server-name and --icg-ca-file apply to the ICG tunnel: give --icg URL too");
  const adminUser = o.adminUser ?? DEFAULT_ADMIN.username;
  // Never a constant: without --admin-password or UMS_EDGE_ADMIN_PASSWORD the password is made up here and told in the ready line.
  const given = o.adminPassword ?? process.env.UMS_EDGE_ADMIN_PASSWORD;
  const adminPassword = given || randomBytes(18).toString("base64url");
  const started = await new MockUms({
    pki: o.pki,
    appConfigFile: o.appConfig,
    db: o.db,
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 8443,
    enrollmentKeys: [...(o.enrollmentKeys ?? []), ...(o.enrollmentKeysFile ? readKeysFile(o.enrollmentKeysFile) : [])],
    heartbeatMs: o.heartbeatMs,
    helloTimeoutMs: o.helloTimeoutMs,
    clusterAddress: o.clusterAddress,
    admin: { username: adminUser, password: adminPassword },
    appSizeBytes: o.appSizeBytes,
    checkRevocation: o.checkRevocation ?? true,
    logSink: o.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
    icg: o.icgUrl ? { url: o.icgUrl, serverName: o.icgServerName, trustedCaFile: o.icgCaFile } : undefined,
  }).start();
  const ready: UmsReadyLine = { event: "ready", component: "ums", pid: process.pid, ...started.endpoints, adminUser, ...(given ? {} : { adminPassword }) };
  await serveUntilSignal(ready, () => started.stop());
}

/** The command-line definition, shared by this entry and `ums-edge ums`; `label` prefixes error messages. */
export function mockUmsCommand(name = "mock-ums", label = name): Command {
  return commandFromSpec(name, "run the mock UMS 12 (HTTPS with the web certificate, onboarding, device WebSocket, IMI API, update proxy, web app)", UMS_FLAGS, runMockUmsProcess, (run) => entryAction(label, run));
}

if (require.main === module) runEntry(mockUmsCommand());
