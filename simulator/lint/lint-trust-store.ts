import * as fs from "node:fs";
import type { X509Certificate } from "node:crypto";
import { certificatesFromPem } from "../../core/pem";
import { UserError } from "../../core/errors";
import { readStack } from "../terraform/read-stack";
import type { Finding } from "../doctor/doctor";

/**
 * Will this stack's trust store lock devices out? A stack alone cannot say which CAs issued the
 * devices still enrolled; the UMS can: its exported client certificate chain (UMS Administration >
 * Global Configuration > Server Network Settings > Export Client Certificate Chain) holds every
 * device CA it still uses. Given that export (`--device-cas`), every CA in it must reach the trust
 * store bundle (itself, or a CA above it: the path ends at the first trust-store certificate it
 * reaches, scenarios/assumptions.ts "alb-partial-chain"); a CA that does not is one whose devices
 * the ALB refuses at their next connect (Failed:ClientCertUntrusted). Removing an old CA before its
 * devices moved (docs/rotation.md) is exactly that. Without the export, lint says it cannot know.
 */

function name(c: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.subject);
  return cn ? `CN=${cn[1]}` : c.subject.replace(/\n/g, ", ");
}

function samePair(a: X509Certificate, b: X509Certificate): boolean {
  return a.fingerprint256 === b.fingerprint256 || (a.subject === b.subject && a.publicKey.equals(b.publicKey));
}

/** True when `ca`, or a CA above it in `export`, is in the bundle. */
function reachesBundle(ca: X509Certificate, exported: readonly X509Certificate[], bundle: readonly X509Certificate[]): boolean {
  const seen = new Set<string>();
  for (let cur: X509Certificate | undefined = ca; cur && !seen.has(cur.fingerprint256); ) {
    seen.add(cur.fingerprint256);
    const c: X509Certificate = cur;
    if (bundle.some((b) => samePair(b, c))) return true;
    if (c.checkIssued(c) && c.verify(c.publicKey)) return false; // a root outside the bundle
    cur = exported.find((p) => p.fingerprint256 !== c.fingerprint256 && c.checkIssued(p) && c.verify(p.publicKey));
  }
  return false;
}

function readPem(file: string, label: string): X509Certificate[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${label} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})\n  fix: give the PEM file the UMS exports (Export Client Certificate Chain)`);
  }
  const certs = certificatesFromPem(text);
  if (certs.length === 0) throw new UserError(`${label} ${file}: no PEM certificate in it\n  fix: give the PEM file the UMS exports (Export Client Certificate Chain)`);
  return certs;
}

export function lintTrustStore(stackDir: string, deviceCasFile: string | undefined): Finding[] {
  const stack = readStack(stackDir);
  const verify = stack.listeners.find((l) => l.mutualAuthentication.mode === "verify" && l.mutualAuthentication.trustStore);
  if (!verify) return [];
  const bundle = readPem(verify.mutualAuthentication.trustStore!.caBundleFile, "the stack's trust store bundle");
  const names = bundle.map(name).join(", ");
  if (!deviceCasFile) {
    return [
      {
        check: "trust store CAs",
        status: "info",
        detail: `the trust store holds ${names}; whether devices still enrolled were issued by a CA it lacks cannot be known from the stack: give --device-cas with the chain your UMS exports now (Export Client Certificate Chain)`,
      },
    ];
  }
  const exported = readPem(deviceCasFile, "--device-cas");
  const findings: Finding[] = [];
  const missing = exported.filter((c) => !reachesBundle(c, exported, bundle));
  findings.push(
    missing.length === 0
      ? { check: "trust store CAs", status: "pass", detail: `every device CA of the UMS (${exported.map(name).join(", ")}) reaches the trust store (${names})` }
      : {
          check: "trust store CAs",
          status: "fail",
          detail: `the trust store (${names}) lacks ${missing.map(name).join(", ")}, which the UMS still uses: its devices would be refused at their next connect (Failed:ClientCertUntrusted). Keep the CA in certificates.clientCaChain until no device holds its certificates (docs/rotation.md), or export the UMS chain again if it no longer uses it.`,
        },
  );
  const leftover = bundle.filter((b) => !exported.some((c) => samePair(b, c)));
  if (leftover.length > 0) {
    findings.push({ check: "trust store CAs", status: "info", detail: `${leftover.map(name).join(", ")} in the trust store but not in the UMS's chain: remove it once no device holds its certificates` });
  }
  return findings;
}
