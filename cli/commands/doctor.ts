import * as fs from "node:fs";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { runDoctor, failed } from "../../simulator/doctor/doctor";
import { UserError } from "../../core/errors";
import { certificatesFromPem } from "../../core/pem";
import { textTable } from "../../simulator/report/text-table";

function readPem(file: string | undefined, option: string): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${option}: cannot read '${file}' (${(e as NodeJS.ErrnoException).code})\n  fix: give the path of a PEM file`);
  }
}

/** A PEM file that must hold certificates: refused before any probe when it holds none or one does not parse. */
function readCertificatePem(file: string | undefined, option: string, what: string, pemName: string): string | undefined {
  const text = readPem(file, option);
  if (text === undefined) return undefined;
  const convert = `a DER file converts with: openssl x509 -inform der -in ${file} -out ${pemName}`;
  let count: number;
  try {
    count = certificatesFromPem(text).length;
  } catch (e) {
    throw new UserError(`${option}: '${file}' has a certificate block that does not parse (${(e as Error).message})\n  fix: give ${what} in PEM, exported again; ${convert}`);
  }
  if (count === 0) {
    throw new UserError(`${option}: '${file}' is not PEM: it holds no '-----BEGIN CERTIFICATE-----' block\n  fix: give ${what} in PEM; ${convert}`);
  }
  return text;
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
    .description("probe a live UMS/ICG front from a device's point of view: TLS versions and ciphers, server certificate and served chain, client-certificate request, CA names, health path, allowed and blocked paths, the device WebSocket")
    .argument("<url>", "device-facing address, e.g. https://ums.example.com:8443")
    .option("--cert <file>", "a device's certificate chain (PEM), to test the mTLS path")
    .option("--key <file>", "its private key (PEM)")
    .option("--cacert <file>", "the CA certificate(s) devices trust (PEM): the served chain must lead to one of them")
    .option("--servername <name>", "SNI and certificate name when the URL holds an address (e.g. a lab on 127.0.0.1)")
    .action(
      runAction(async (url: string, opts: { cert?: string; key?: string; cacert?: string; servername?: string }) => {
        const u = parseUrl(url);
        if (Boolean(opts.cert) !== Boolean(opts.key)) throw new UserError("--cert and --key go together\n  fix: give both, or neither");
        const findings = await runDoctor(u.toString(), {
          cert: readCertificatePem(opts.cert, "--cert", "the device certificate chain", "device-chain.pem"),
          key: readPem(opts.key, "--key"),
          caCert: readCertificatePem(opts.cacert, "--cacert", "the CA certificate(s) devices trust (e.g. the UMS web root CA)", "ca.pem"),
          caCertName: opts.cacert,
          servername: opts.servername,
        });
        process.stdout.write(textTable(["check", "status", "detail"], findings.map((f) => [f.check, f.status.toUpperCase(), f.detail])));
        return failed(findings) ? 1 : 0;
      }),
    );
}
