import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { formatNotice, loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { ProblemsError } from "../../core/errors";
import { baseConfig, tempDir, writeConfig } from "../helpers/config";
import { makeAcmImportCases, AcmImportCases } from "../helpers/acm-import-cases";

/**
 * The web certificate and the trust store bundle as administrators really export them, made with
 * the openssl command line at test time: what ACM or the trust store would refuse is refused before
 * anything is written (exact messages), what synth tidies is said in a note, and every file synth
 * writes for AWS is PEM blocks only with LF line endings (byte-checked).
 */

let x: AcmImportCases;
let dir: string;
const FQDN = "ums.example.test";
const HEAD = "ums-edge.yaml is not a valid ums-edge configuration:\n";

beforeAll(() => {
  dir = tempDir("ums-edge-exports-");
  x = makeAcmImportCases(path.join(dir, "exports"), FQDN);
  const read = (f: string) => fs.readFileSync(f, "utf8");
  const put = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  put("reversed-chain.pem", read(x.webRoot) + read(x.webIntermediate) + read(x.rsa.body));
  put("leaf-and-root.pem", read(x.rsa.body) + read(x.webRoot));
  put("leaf-only.pem", read(x.rsa.body));
  const [ca, root] = read(x.deviceCaChain).split(/(?<=-----END CERTIFICATE-----\n)/);
  put("bundle-blank-line.pem", `# UMS device CAs\n${ca}\n${root}`.replace(/\n/g, "\r\n"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function config(web: { privateKey?: string; headOnlyBody?: string; entireChain?: string } = {}, clientCaChain = x.deviceCaChain): Record<string, unknown> {
  return baseConfig({
    cluster: { fqdn: FQDN },
    certificates: { clientCaChain, web: { privateKey: x.rsa.key, headOnlyBody: x.rsa.body, entireChain: x.rsa.entireChain, ...web } },
    stacks: [{ variant: "ums-alb-verify" }],
  });
}

async function load(cfg: Record<string, unknown>) {
  const file = writeConfig(dir, cfg);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await loadConfig(path.basename(file));
  } finally {
    process.chdir(cwd);
  }
}

async function refusal(cfg: Record<string, unknown>): Promise<string> {
  try {
    await load(cfg);
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemsError);
    return (e as Error).message.split(dir).join("<dir>");
  }
  throw new Error("config was accepted");
}

const rel = (f: string) => path.relative(dir, f);

test.each<[string, () => Record<string, unknown>, () => string]>([
  [
    "leaf + root without the intermediate, naming the missing issuer",
    () => config({ entireChain: "leaf-and-root.pem" }),
    () =>
      HEAD +
      "ums-edge.yaml: certificates.web.entireChain: 'leaf-and-root.pem': has no certificate of 'O=Corp Test,CN=Corp Test Web Intermediate', the issuer of 'O=Corp Test,CN=ums.example.test', so 'O=Corp Test,CN=Corp Test Web Root' does not connect to the web certificate\n" +
      "  fix: add the intermediate CA 'O=Corp Test,CN=Corp Test Web Intermediate' (export the chain again with 'Export length: Entire chain')",
  ],
  [
    "a PKCS#12 keystore given as the key, with one finding that says how to export the key",
    () => config({ privateKey: rel(x.pkcs12) }),
    () =>
      HEAD +
      `ums-edge.yaml: certificates.web.privateKey: '${rel(x.pkcs12)}': is a PKCS#12 keystore, not a PEM private key; ACM imports the key alone, unencrypted, in PEM\n` +
      `  fix: export the key pair's private key from KeyStore Explorer: type OpenSSL, unencrypted, PEM (or: openssl pkcs12 -in ${rel(x.pkcs12)} -nocerts -nodes -out private_key.pem)`,
  ],
  [
    "an Ed25519 key (ACM imports RSA and ECDSA only)",
    () => config({ privateKey: rel(x.ed25519.key), headOnlyBody: rel(x.ed25519.body), entireChain: rel(x.ed25519.entireChain) }),
    () =>
      HEAD +
      `ums-edge.yaml: certificates.web.privateKey: '${rel(x.ed25519.key)}': is an Ed25519 key; ACM imports RSA 1024, 2048, 3072 or 4096 and ECDSA P-256, P-384 or P-521 keys\n` +
      "  fix: create the web certificate in the UMS with an RSA 2048 (or ECDSA P-256) key",
  ],
  [
    "a key that is not a key (no OpenSSL error text reaches the user)",
    () => config({ privateKey: rel(x.rsa.body) }),
    () =>
      HEAD +
      `ums-edge.yaml: certificates.web.privateKey: '${rel(x.rsa.body)}': holds no PEM private key ('-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')\n` +
      "  fix: export the key pair's private key from KeyStore Explorer: type OpenSSL, unencrypted, PEM",
  ],
])("refuses %s", async (_name, cfg, expected) => {
  const message = await refusal(cfg());
  expect(message).toBe(expected());
  expect(message).not.toMatch(/error:[0-9A-F]{8}|DECODER routines|asn1/i);
});

test("accepts a PKCS#1 RSA key and an in-order chain without a notice", async () => {
  const loaded = await load(config());
  expect(loaded.notices).toEqual([]);
  expect(new X509Certificate(loaded.certificates.webAcmChain!).subject).toBe("O=Corp Test\nCN=Corp Test Web Intermediate");
});

test("accepts a reversed chain, imports it in order and says so", async () => {
  const loaded = await load(config({ entireChain: "reversed-chain.pem" }));
  expect(loaded.notices.map(formatNotice)).toEqual([
    "note: ums-edge.yaml: certificates.web.entireChain: 'reversed-chain.pem': is not in order from the web certificate up; synth imports it as 'O=Corp Test,CN=ums.example.test' < 'O=Corp Test,CN=Corp Test Web Intermediate' < 'O=Corp Test,CN=Corp Test Web Root' (each certifies the one before it)",
  ]);
  const acm = loaded.certificates.webAcmChain!.split(/(?<=-----END CERTIFICATE-----\n)/).map((p) => new X509Certificate(p).subject);
  expect(acm).toEqual(["O=Corp Test\nCN=Corp Test Web Intermediate", "O=Corp Test\nCN=Corp Test Web Root"]);
});

test("warns when the chain holds only the web certificate a CA issued", async () => {
  const loaded = await load(config({ entireChain: "leaf-only.pem" }));
  expect(loaded.notices.map(formatNotice)).toEqual([
    "warning: ums-edge.yaml: certificates.web.entireChain: 'leaf-only.pem': holds only the web certificate, which 'O=Corp Test,CN=Corp Test Web Intermediate' issued: ACM gets no intermediate chain, so every device and browser must already trust 'O=Corp Test,CN=Corp Test Web Intermediate'\n" +
      "  fix: export the chain with 'Export length: Entire chain' unless that issuer is a root your devices trust",
  ]);
  expect(loaded.certificates.webAcmChain).toBeUndefined();
});

test("warns about an RSA 1024 key that ACM imports but TLS clients refuse", async () => {
  const loaded = await load(config({ privateKey: rel(x.rsa1024.key), headOnlyBody: rel(x.rsa1024.body), entireChain: rel(x.rsa1024.entireChain) }));
  expect(loaded.notices.map(formatNotice)).toEqual([
    `warning: ums-edge.yaml: certificates.web.privateKey: '${rel(x.rsa1024.key)}': is an RSA 1024 key: ACM imports it, but current TLS clients (OpenSSL 3 at its default security level, browsers) refuse servers with keys under 2048 bits\n` +
      "  fix: create the web certificate with an RSA 2048 key",
  ]);
});

describe("exports with CRLF, Bag Attributes, an EC PARAMETERS block and a blank line in the bundle", () => {
  let out: string;
  let notices: string[];

  beforeAll(async () => {
    const loaded = await load(config({ privateKey: rel(x.bagAttributesKey), entireChain: rel(x.bagAttributesChain) }, "bundle-blank-line.pem"));
    notices = loaded.notices.map(formatNotice);
    out = path.join(dir, "cdktf.out");
    synthesize(loaded, out);
  });

  test("are accepted, with a note per file saying what synth leaves out", () => {
    expect(notices).toEqual([
      "note: ums-edge.yaml: certificates.clientCaChain: 'bundle-blank-line.pem': synth writes its PEM blocks only, with LF line endings, for AWS (dropped: CRLF line endings, 1 text line(s) outside the PEM blocks, 1 blank line(s))",
      `note: ums-edge.yaml: certificates.web.privateKey: '${rel(x.bagAttributesKey)}': synth writes its PEM blocks only, with LF line endings, for AWS (dropped: CRLF line endings, 3 text line(s) outside the PEM blocks (Bag Attributes))`,
      `note: ums-edge.yaml: certificates.web.entireChain: '${rel(x.bagAttributesChain)}': synth writes its PEM blocks only, with LF line endings, for AWS (dropped: CRLF line endings, 3 text line(s) outside the PEM blocks (Bag Attributes))`,
    ]);
  });

  test("every file synth writes for AWS is PEM blocks only, LF, no blank line (byte check)", () => {
    const assets = path.join(out, "stacks", "ums-alb-verify", "assets");
    const files = (fs.readdirSync(assets, { recursive: true }) as string[]).map((f) => path.join(assets, f)).filter((f) => fs.statSync(f).isFile());
    expect(files.map((f) => path.basename(f)).sort()).toEqual(["acm-chain.pem", "client-ca-chain.pem", "headonly-body.pem", "private_key.pem"]);
    const pemOnly = /^(-----BEGIN ([A-Z ]+)-----\n([A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/]{0,63}={0,2}\n?-----END \2-----\n)+$/;
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      expect(bytes.includes(0x0d)).toBe(false);
      expect(bytes.toString("utf8")).toMatch(pemOnly);
    }
    const bundle = fs.readFileSync(files.find((f) => f.endsWith("client-ca-chain.pem"))!, "utf8");
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(fs.readFileSync(files.find((f) => f.endsWith("private_key.pem"))!, "utf8")).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  });

  test("the EC key's EC PARAMETERS block is left out of the key ACM imports", async () => {
    const loaded = await load(config({ privateKey: rel(x.ec.key), headOnlyBody: rel(x.ec.body), entireChain: rel(x.ec.entireChain) }));
    expect(loaded.notices.map(formatNotice)).toEqual([`note: ums-edge.yaml: certificates.web.privateKey: '${rel(x.ec.key)}': synth writes its PEM blocks only, with LF line endings, for AWS (dropped: block(s) EC PARAMETERS)`]);
    const ecOut = path.join(dir, "cdktf.out.ec");
    synthesize(loaded, ecOut);
    const keyAsset = (fs.readdirSync(path.join(ecOut, "stacks", "ums-alb-verify", "assets"), { recursive: true }) as string[]).find((f) => f.endsWith("private_key.pem"))!;
    const text = fs.readFileSync(path.join(ecOut, "stacks", "ums-alb-verify", "assets", keyAsset), "utf8");
    expect(text.match(/-----BEGIN [A-Z ]+-----/g)).toEqual(["-----BEGIN EC PRIVATE KEY-----"]);
  });
});

describe("trust store bundle limits (ELB quotas and mTLS prerequisites)", () => {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  const selfSignedCa = (key: string, cn: string, extra: string[] = []) =>
    openssl("req", "-x509", "-new", "-key", key, "-subj", `/CN=${cn}`, "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", ...extra);

  beforeAll(() => {
    fs.writeFileSync(path.join(dir, "many-cas.pem"), Array.from({ length: 26 }, (_, i) => selfSignedCa(x.rsa.key, `Device CA ${i + 1}`)).join(""));
    fs.writeFileSync(path.join(dir, "weak-ca.pem"), selfSignedCa(x.rsa1024.key, "Weak Device CA"));
    openssl("req", "-new", "-key", x.rsa.key, "-subj", "/CN=Old Device CA", "-out", "v1.csr");
    fs.writeFileSync(path.join(dir, "v1-ca.pem"), openssl("x509", "-req", "-in", "v1.csr", "-signkey", x.rsa.key, "-days", "30"));
  });

  test.each<[string, string, string]>([
    [
      "more than 25 CA certificates",
      "many-cas.pem",
      "ums-edge.yaml: certificates.clientCaChain: 'many-cas.pem': holds 26 CA certificates; an AWS trust store takes at most 25\n  fix: keep the CAs that issue your devices' certificates (the UMS device CA and its root)",
    ],
    [
      "a CA with an RSA 1024 key",
      "weak-ca.pem",
      "ums-edge.yaml: certificates.clientCaChain: 'weak-ca.pem': certificate #1 (CN=Weak Device CA) has a key AWS trust stores do not take (RSA 1024); they take RSA 2048-8192 and ECDSA P-256, P-384 and P-521 keys\n  fix: issue the CA with a supported key",
    ],
    [
      "an X.509 v1 certificate",
      "v1-ca.pem",
      "ums-edge.yaml: certificates.clientCaChain: 'v1-ca.pem': holds 1 certificate(s) that are not CAs (CN=Old Device CA)\n  fix: a trust store holds CA certificates only; remove device or server certificates from the bundle\n" +
        "ums-edge.yaml: certificates.clientCaChain: 'v1-ca.pem': certificate #1 (CN=Old Device CA) is X.509 v1; AWS trust stores take X.509 v3 certificates only\n  fix: issue the CA certificate again as X.509 v3",
    ],
  ])("refuses %s", async (_name, bundle, expected) => {
    expect(await refusal(config({}, bundle))).toBe(HEAD + expected);
  });
});
