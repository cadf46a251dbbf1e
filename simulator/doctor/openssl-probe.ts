import { spawn } from "node:child_process";
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
export function probeCertificateRequest(host: string, port: number, servername: string): Promise<CertificateRequestInfo | undefined> {
  const sni = isIP(servername) ? ["-noservername"] : ["-servername", servername];
  // Asynchronous: the server probed may run in this very process (a test, an embedding tool).
  return new Promise((resolve) => {
    const child = spawn("openssl", ["s_client", "-connect", `${host.includes(":") ? `[${host}]` : host}:${port}`, ...sni], { stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stdout.on("data", (c: Buffer) => (text += c));
    child.stderr.on("data", (c: Buffer) => (text += c));
    child.stdin.end();
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(kill);
      resolve(e.code === "ENOENT" ? undefined : { requested: false, caNames: [] });
    });
    child.on("close", () => {
      clearTimeout(kill);
      resolve(parseCertificateRequest(text));
    });
  });
}

/** What `openssl s_client` printed about the server's CertificateRequest. */
function parseCertificateRequest(text: string): CertificateRequestInfo {
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
