import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { makeOpensslExports } from "./openssl-exports";

/**
 * The web certificate in every shape ACM's import rules tell apart, made at test time on top of the
 * openssl exports (./openssl-exports.ts: Corp Test web root -> intermediate -> web certificate, the
 * UMS device CA): the PKCS#1 key and chain as plain LF files, the Windows-style exports (CRLF, Bag
 * Attributes), an ECDSA P-256 key with its EC PARAMETERS block, an RSA 1024 and an Ed25519 web
 * certificate, and a PKCS#12 keystore. Keys 0600; nothing is committed.
 */
export interface WebCertificateCase {
  readonly key: string;
  readonly body: string;
  readonly entireChain: string;
}

export interface AcmImportCases {
  readonly dir: string;
  readonly webRoot: string;
  readonly webIntermediate: string;
  /** PKCS#1 RSA 2048, LF, chain leaf -> intermediate -> root. */
  readonly rsa: WebCertificateCase;
  readonly rsa1024: WebCertificateCase;
  /** ECDSA P-256, the key file starting with an EC PARAMETERS block (`openssl ecparam -genkey`). */
  readonly ec: WebCertificateCase;
  readonly ed25519: WebCertificateCase;
  /** A PKCS#12 keystore of the RSA web certificate (password `changeit`). */
  readonly pkcs12: string;
  /** The RSA key and chain as a Windows keystore tool exports them: Bag Attributes lines, CRLF. */
  readonly bagAttributesKey: string;
  readonly bagAttributesChain: string;
  /** The UMS device CA chain (issuing CA, root), LF. */
  readonly deviceCaChain: string;
}

export function makeAcmImportCases(dir: string, fqdn: string): AcmImportCases {
  const base = makeOpensslExports(dir, { fqdnPattern: fqdn, webKey: "rsa-pkcs1", deviceCaBits: [2048, 2048] });
  const p = (name: string) => path.join(dir, name);
  const read = (name: string) => fs.readFileSync(p(name), "utf8");
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const chainOf = (leaf: string) => read(leaf) + read("web-int.pem") + read("web-root.pem");
  const leaf = (name: string, makeKey: () => void): WebCertificateCase => {
    makeKey();
    fs.chmodSync(p(`${name}.key`), 0o600);
    run("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=Corp Test/CN=${fqdn}`);
    run("x509", "-req", "-in", `${name}.csr`, "-CA", "web-int.pem", "-CAkey", "web-int.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "365", "-sha256", "-extfile", "web.ext");
    fs.writeFileSync(p(`${name}-chain.pem`), chainOf(`${name}.pem`));
    return { key: p(`${name}.key`), body: p(`${name}.pem`), entireChain: p(`${name}-chain.pem`) };
  };
  fs.writeFileSync(p("rsa-chain.pem"), chainOf("web.pem"));
  fs.writeFileSync(p("ca-chain.pem"), read("web-int.pem") + read("web-root.pem"));
  run("pkcs12", "-export", "-inkey", "web.key", "-in", "web.pem", "-certfile", "ca-chain.pem", "-name", "ums web", "-passout", "pass:changeit", "-out", "keystore.p12");
  fs.chmodSync(p("keystore.p12"), 0o600);
  fs.writeFileSync(p("device-ca-chain.pem"), read("device-ca.pem") + read("device-root.pem"));
  return {
    dir,
    webRoot: base.webRoot,
    webIntermediate: base.webIntermediate,
    rsa: { key: p("web.key"), body: base.web.headOnlyBody, entireChain: p("rsa-chain.pem") },
    rsa1024: leaf("rsa1024", () => run("genrsa", "-traditional", "-out", "rsa1024.key", "1024")),
    ec: leaf("ec", () => run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key")),
    ed25519: leaf("ed25519", () => run("genpkey", "-algorithm", "ed25519", "-out", "ed25519.key")),
    pkcs12: p("keystore.p12"),
    bagAttributesKey: base.web.privateKey,
    bagAttributesChain: base.web.entireChain,
    deviceCaChain: p("device-ca-chain.pem"),
  };
}
