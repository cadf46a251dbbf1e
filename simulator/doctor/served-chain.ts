import { X509Certificate } from "node:crypto";
import { ChainVerifier } from "../pki/chain-verify";
import { issuerRfc2253, subjectRfc2253 } from "../pki/dn";

/**
 * `doctor --cacert`: does the chain the server sends lead to a CA devices trust? A server must send
 * its intermediates (RFC 8446 section 4.4.2: the chain up to, optionally without, the trust anchor);
 * clients do not fetch missing ones, so a chain without its intermediate fails on every device even
 * though a browser with the intermediate cached may accept it.
 */

export interface ServedChainFinding {
  readonly status: "pass" | "fail" | "skip";
  readonly detail: string;
}

const isSelfSigned = (c: X509Certificate) => c.issuer === c.subject && c.verify(c.publicKey);

/**
 * `servedPem`: what the server sent, leaf first, in issuer order (Node's view of the peer chain);
 * `caPem`: the CA certificates devices trust; `caName` names them in messages (the file).
 */
export function servedChainFinding(servedPem: readonly string[] | undefined, caPem: string, caName: string): ServedChainFinding {
  if (!servedPem || servedPem.length === 0) return { status: "skip", detail: "not checked: no handshake completed, so no certificate was served" };
  const served = servedPem.map((p) => new X509Certificate(p));
  const sent = served.map((c) => `'${subjectRfc2253(c)}'`).join(" -> ");
  const verdict = new ChainVerifier(caPem).verify(served);
  if (verdict.ok) {
    return { status: "pass", detail: `complete: ${verdict.path.map((c) => `'${subjectRfc2253(c)}'`).join(" -> ")}, trusted by ${caName}` };
  }
  if (verdict.reason !== "untrusted") return { status: "fail", detail: `${verdict.detail} (served: ${sent})` };
  const top = served[served.length - 1];
  if (isSelfSigned(top)) {
    return {
      status: "fail",
      detail: `the served chain ends at '${subjectRfc2253(top)}', which is not in ${caName}: devices that trust only ${caName} refuse the server (served: ${sent})`,
    };
  }
  return {
    status: "fail",
    detail:
      `incomplete: missing issuer '${issuerRfc2253(top)}' of '${subjectRfc2253(top)}' (served: ${sent}); ` +
      "serve the intermediate CA certificate(s) too: export the web certificate with 'Export length: Entire chain' (entire_chain.pem, the ACM certificate chain)",
  };
}
