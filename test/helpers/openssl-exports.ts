import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

/**
 * Certificates made by the `openssl` command line at test time, the way real exports look: RSA keys
 * in PKCS#1 ("BEGIN RSA PRIVATE KEY", what KeyStore Explorer's "OpenSSL" type writes), EC keys with
 * their "EC PARAMETERS" block, CRLF line endings, "Bag Attributes" lines from `openssl pkcs12`, a
 * PKCS#12 keystore. Nothing here is committed: every file is written under a temporary directory,
 * keys 0600.
 */
export interface OpensslExports {
  readonly dir: string;
  readonly fqdn: string;
  /** Web PKI: root -> intermediate -> leaf. */
  readonly webRoot: string;
  readonly webIntermediate: string;
  /** The RSA web certificate (body), its PKCS#1 key, and the chain leaf, intermediate, root. */
  readonly rsa: { readonly key: string; readonly body: string; readonly entireChain: string };
  /** The same names with an ECDSA P-256 key (EC PARAMETERS + EC PRIVATE KEY). */
  readonly ec: { readonly key: string; readonly body: string; readonly entireChain: string };
  /** An RSA 1024 web certificate and key (ACM imports it; TLS clients refuse it). */
  readonly rsa1024: { readonly key: string; readonly body: string; readonly entireChain: string };
  /** An Ed25519 web certificate and key. */
  readonly ed25519: { readonly key: string; readonly body: string; readonly entireChain: string };
  /** A PKCS#12 keystore of the RSA web certificate (password `changeit`). */
  readonly pkcs12: string;
  /** `openssl pkcs12 -nodes` output of that keystore: Bag Attributes, key and certificates, CRLF. */
  readonly bagAttributesKey: string;
  readonly bagAttributesChain: string;
  /** Device PKI: the UMS device CA and its root, as the trust store bundle. */
  readonly deviceCaChain: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** Creates the exports in `dir` (a fresh directory). */
export function makeOpensslExports(dir: string, fqdn = "ums.example.test"): OpensslExports {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => openssl(dir, args);
  const rsaKey = (name: string, bits = 2048) => {
    run("genrsa", "-traditional", "-out", name, String(bits));
    fs.chmodSync(p(name), 0o600);
  };
  fs.writeFileSync(p("ca.ext"), CA_EXT);
  fs.writeFileSync(p("leaf.ext"), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${fqdn}\n`);
  const selfSigned = (key: string, cn: string, out: string) => run("req", "-x509", "-new", "-key", key, "-subj", `/O=Example/CN=${cn}`, "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", out);
  const issue = (key: string, cn: string, caCert: string, caKey: string, ext: string, out: string) => {
    run("req", "-new", "-key", key, "-subj", `/O=Example/CN=${cn}`, "-out", `${out}.csr`);
    run("x509", "-req", "-in", `${out}.csr`, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial", "-days", "365", "-extfile", ext, "-out", out);
  };

  rsaKey("web-root.key");
  selfSigned("web-root.key", "Example Web Root", "web-root.pem");
  rsaKey("web-inter.key");
  issue("web-inter.key", "Example Web Intermediate", "web-root.pem", "web-root.key", "ca.ext", "web-inter.pem");
  const chainOf = (leaf: string) => ["web-inter.pem", "web-root.pem"].reduce((t, f) => t + fs.readFileSync(p(f), "utf8"), fs.readFileSync(p(leaf), "utf8"));

  rsaKey("rsa.key");
  issue("rsa.key", fqdn, "web-inter.pem", "web-inter.key", "leaf.ext", "rsa.pem");
  fs.writeFileSync(p("rsa-chain.pem"), chainOf("rsa.pem"));

  rsaKey("rsa1024.key", 1024);
  issue("rsa1024.key", fqdn, "web-inter.pem", "web-inter.key", "leaf.ext", "rsa1024.pem");
  fs.writeFileSync(p("rsa1024-chain.pem"), chainOf("rsa1024.pem"));

  run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key");
  fs.chmodSync(p("ec.key"), 0o600);
  issue("ec.key", fqdn, "web-inter.pem", "web-inter.key", "leaf.ext", "ec.pem");
  fs.writeFileSync(p("ec-chain.pem"), chainOf("ec.pem"));

  run("genpkey", "-algorithm", "ed25519", "-out", "ed25519.key");
  fs.chmodSync(p("ed25519.key"), 0o600);
  issue("ed25519.key", fqdn, "web-inter.pem", "web-inter.key", "leaf.ext", "ed25519.pem");
  fs.writeFileSync(p("ed25519-chain.pem"), chainOf("ed25519.pem"));

  fs.writeFileSync(p("ca-chain.pem"), fs.readFileSync(p("web-inter.pem"), "utf8") + fs.readFileSync(p("web-root.pem"), "utf8"));
  run("pkcs12", "-export", "-inkey", "rsa.key", "-in", "rsa.pem", "-certfile", "ca-chain.pem", "-name", "ums web", "-passout", "pass:changeit", "-out", "keystore.p12");
  fs.chmodSync(p("keystore.p12"), 0o600);
  run("pkcs12", "-in", "keystore.p12", "-nocerts", "-nodes", "-passin", "pass:changeit", "-out", "bag-key.pem");
  run("pkcs12", "-in", "keystore.p12", "-nokeys", "-passin", "pass:changeit", "-out", "bag-chain.pem");
  for (const f of ["bag-key.pem", "bag-chain.pem"]) fs.writeFileSync(p(f), crlf(fs.readFileSync(p(f), "utf8")), { mode: 0o600 });

  rsaKey("device-root.key");
  selfSigned("device-root.key", "UMS Device Root", "device-root.pem");
  rsaKey("device-ca.key");
  issue("device-ca.key", "UMS Device CA", "device-root.pem", "device-root.key", "ca.ext", "device-ca.pem");
  fs.writeFileSync(p("client-ca-chain.pem"), fs.readFileSync(p("device-ca.pem"), "utf8") + fs.readFileSync(p("device-root.pem"), "utf8"));

  return {
    dir,
    fqdn,
    webRoot: p("web-root.pem"),
    webIntermediate: p("web-inter.pem"),
    rsa: { key: p("rsa.key"), body: p("rsa.pem"), entireChain: p("rsa-chain.pem") },
    rsa1024: { key: p("rsa1024.key"), body: p("rsa1024.pem"), entireChain: p("rsa1024-chain.pem") },
    ec: { key: p("ec.key"), body: p("ec.pem"), entireChain: p("ec-chain.pem") },
    ed25519: { key: p("ed25519.key"), body: p("ed25519.pem"), entireChain: p("ed25519-chain.pem") },
    pkcs12: p("keystore.p12"),
    bagAttributesKey: p("bag-key.pem"),
    bagAttributesChain: p("bag-chain.pem"),
    deviceCaChain: p("client-ca-chain.pem"),
  };
}
