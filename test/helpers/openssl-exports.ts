import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

/**
 * Certificate files made with openssl the way an administrator's exports look: a web certificate
 * (wildcard, issued by an intermediate) with its key as PKCS#1 RSA or EC, CRLF line endings and
 * KeyStore Explorer's "Bag Attributes" lines; a UMS device CA chain (issuing CA first, root last, as
 * "Export Client Certificate Chain" writes it). Test-only material, made at test time.
 */

export interface OpensslExports {
  readonly dir: string;
  readonly web: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string };
  /** The web certificate's issuing intermediate and root (what a served chain needs). */
  readonly webIntermediate: string;
  readonly webRoot: string;
  readonly clientCaChain: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** Bag Attributes lines and CRLF, as a keystore tool writes an export on Windows. */
function asWindowsExport(file: string, friendlyName: string): void {
  const text = fs.readFileSync(file, "utf8").replace(/\r?\n/g, "\r\n");
  fs.writeFileSync(file, `Bag Attributes\r\n    friendlyName: ${friendlyName}\r\n    localKeyID: 54 69 6D 65 20 31 37 30 30\r\n${text}`);
}

export function makeOpensslExports(dir: string, o: { readonly fqdnPattern: string; readonly webKey: "rsa-pkcs1" | "ec"; readonly deviceCaBits: readonly [number, number] }): OpensslExports {
  fs.mkdirSync(dir, { recursive: true });
  const ext = (name: string, lines: string[]) => fs.writeFileSync(path.join(dir, name), lines.join("\n") + "\n");
  ext("ca.ext", ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"]);
  ext("web.ext", [`subjectAltName=DNS:${o.fqdnPattern}`, "basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"]);
  const ca = (name: string, subject: string, bits: number, issuer?: string) => {
    openssl(["req", "-new", "-newkey", `rsa:${bits}`, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
    const sign = issuer ? ["-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-CAcreateserial"] : ["-signkey", `${name}.key`];
    openssl(["x509", "-req", "-in", `${name}.csr`, ...sign, "-out", `${name}.pem`, "-days", "3650", "-sha256", "-extfile", "ca.ext"], dir);
  };
  // The web PKI: root → intermediate → wildcard leaf.
  ca("web-root", "/O=Corp Test/CN=Corp Test Web Root", 2048);
  ca("web-int", "/O=Corp Test/CN=Corp Test Web Intermediate", 2048, "web-root");
  if (o.webKey === "ec") {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "web.key"], dir);
  } else {
    openssl(["genrsa", "-traditional", "-out", "web.key", "2048"], dir);
  }
  openssl(["req", "-new", "-key", "web.key", "-out", "web.csr", "-subj", `/O=Corp Test/CN=${o.fqdnPattern}`], dir);
  openssl(["x509", "-req", "-in", "web.csr", "-CA", "web-int.pem", "-CAkey", "web-int.key", "-CAcreateserial", "-out", "web.pem", "-days", "365", "-sha256", "-extfile", "web.ext"], dir);
  // The UMS device CA: root → device CA; exported issuing CA first.
  ca("device-root", "/O=Corp Test/CN=Corp UMS Device Root", o.deviceCaBits[0]);
  ca("device-ca", "/O=Corp Test/CN=Corp UMS Device CA", o.deviceCaBits[1], "device-root");

  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  const web = { privateKey: path.join(dir, "private_key.pem"), headOnlyBody: path.join(dir, "headonly-body.pem"), entireChain: path.join(dir, "entire_chain.pem") };
  fs.writeFileSync(web.privateKey, read("web.key"), { mode: 0o600 });
  fs.writeFileSync(web.headOnlyBody, read("web.pem"));
  fs.writeFileSync(web.entireChain, read("web.pem") + read("web-int.pem") + read("web-root.pem"));
  asWindowsExport(web.privateKey, "ums web");
  asWindowsExport(web.entireChain, "ums web");
  const clientCaChain = path.join(dir, "client-ca-chain.pem");
  fs.writeFileSync(clientCaChain, (read("device-ca.pem") + read("device-root.pem")).replace(/\r?\n/g, "\r\n"));
  for (const f of fs.readdirSync(dir)) if (f.endsWith(".key")) fs.chmodSync(path.join(dir, f), 0o600);
  return { dir, web, webIntermediate: path.join(dir, "web-int.pem"), webRoot: path.join(dir, "web-root.pem"), clientCaChain };
}
