import { spawnSync } from "node:child_process";
import { isIP } from "node:net";

export interface CertificateRequestInfo {
  /** The server sent a CertificateRequest. */
  readonly requested: boolean;
  /** CA names it advertised (ALB `advertise_trust_store_ca_names`), one DN per entry. */
  readonly caNames: readonly string[];
}

/**
 * Whether the server asks for a client certificate, and which CA names it sends. Node's TLS API does
 * not expose the CertificateRequest message; `openssl s_client` prints it. Undefined when the openssl
 * command is not installed.
 */
export function probeCertificateRequest(host: string, port: number, servername: string): CertificateRequestInfo | undefined {
  const sni = isIP(servername) ? ["-noservername"] : ["-servername", servername];
  const r = spawnSync("openssl", ["s_client", "-connect", `${host.includes(":") ? `[${host}]` : host}:${port}`, ...sni], { input: "", encoding: "utf8", timeout: 10_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  const text = `${r.stdout}\n${r.stderr}`;
  const requested = /Requested Signature Algorithms|Client Certificate Types/.test(text);
  const caNames: string[] = [];
  const start = text.indexOf("Acceptable client certificate CA names");
  if (start >= 0) {
    for (const line of text.slice(start).split("\n").slice(1)) {
      if (/^(Requested Signature|Client Certificate Types|Shared Requested|Peer signing|---)/.test(line) || line.trim() === "") break;
      caNames.push(line.trim());
    }
  }
  return { requested, caNames };
}
