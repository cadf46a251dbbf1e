import * as fs from "node:fs";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { runDoctor, failed } from "../../simulator/doctor/doctor";
import { UserError } from "../../core/errors";
import { textTable } from "../../simulator/report/text-table";

function readPem(file: string | undefined, option: string): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${option}: cannot read '${file}' (${(e as NodeJS.ErrnoException).code})\n  fix: give the path of a PEM file`);
  }
}

function parseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`URL: '${url}' is not a URL\n  fix: give the device-facing address, e.g. https://ums.example.com:8443`);
  }
  if (u.protocol !== "https:") throw new UserError(`URL: '${url}' is not https\n  fix: IGEL devices only speak HTTPS: use https://${u.host}${u.pathname === "/" ? "" : u.pathname}`);
  return u;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("probe a live UMS/ICG front from a device's point of view: TLS versions, client-certificate request, CA names, health path, allowed and blocked paths")
    .argument("<url>", "device-facing address, e.g. https://ums.example.com:8443")
    .option("--cert <file>", "a device's certificate chain (PEM), to test the mTLS path")
    .option("--key <file>", "its private key (PEM)")
    .option("--servername <name>", "SNI and certificate name when the URL holds an address (e.g. a lab on 127.0.0.1)")
    .action(
      runAction(async (url: string, opts: { cert?: string; key?: string; servername?: string }) => {
        const u = parseUrl(url);
        if (Boolean(opts.cert) !== Boolean(opts.key)) throw new UserError("--cert and --key go together\n  fix: give both, or neither");
        const findings = await runDoctor(u.toString(), { cert: readPem(opts.cert, "--cert"), key: readPem(opts.key, "--key"), servername: opts.servername });
        process.stdout.write(textTable(["check", "status", "detail"], findings.map((f) => [f.check, f.status.toUpperCase(), f.detail])));
        return failed(findings) ? 1 : 0;
      }),
    );
}
