import * as fs from "node:fs";
import * as path from "node:path";
import { formatNotice, loadConfig } from "../../stacks/config/load-config";
import { ProblemsError } from "../../core/errors";
import { baseConfig, tempDir, writeConfig } from "../helpers/config";
import { testLabPki } from "../helpers/lab-pki";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";

/**
 * Bad configurations are refused before anything is synthesized, with one message naming the file,
 * the field and the fix. Messages are compared exactly: they are the product's interface.
 */

let dir: string;
let pki: LabPki;
const HEAD = "ums-edge.yaml is not a valid ums-edge configuration:\n";

function files(web: Partial<Record<"privateKey" | "headOnlyBody" | "entireChain", string>> = {}, ca = "ca.pem") {
  return {
    certificates: {
      clientCaChain: ca,
      web: { privateKey: "key.pem", headOnlyBody: "body.pem", entireChain: "chain.pem", ...web },
    },
  };
}

beforeAll(async () => {
  pki = await testLabPki();
  dir = tempDir("ums-edge-config-");
  const copy = (from: string, to: string) => fs.copyFileSync(from, path.join(dir, to));
  copy(pki.clientCaChain, "ca.pem");
  copy(pki.web.privateKey, "key.pem");
  copy(pki.web.headOnlyBody, "body.pem");
  copy(pki.web.entireChain, "chain.pem");
  copy(pki.icg.cert, "other-body.pem");
  copy(pki.icg.key, "other-key.pem");
  fs.writeFileSync(path.join(dir, "many.crl.pem"), fs.readFileSync(pki.crl, "utf8").repeat(31));
  fs.writeFileSync(path.join(dir, "not-pem.pem"), fs.readFileSync(pki.clientCaChain, "utf8").replace(/-----(BEGIN|END) CERTIFICATE-----/g, ""));
  // Five CA levels: the too-deep device's sub-CAs, the device CA and the root.
  const deepChain = fs.readFileSync(pki.devices["too-deep"].chain, "utf8").split(/(?=-----BEGIN CERTIFICATE-----)/).slice(1).join("");
  fs.writeFileSync(path.join(dir, "deep-ca.pem"), deepChain + fs.readFileSync(pki.deviceCa.rootCert, "utf8"));
});

async function refusal(config: Record<string, unknown> | string): Promise<string> {
  const file = writeConfig(dir, config);
  const cwd = process.cwd();
  process.chdir(dir); // messages name the file as the user gave it
  try {
    await loadConfig(path.basename(file), { labPki: labPkiCertificates });
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemsError);
    return (e as Error).message.split(dir).join("<dir>");
  } finally {
    process.chdir(cwd);
  }
  throw new Error("config was accepted");
}

const passthroughOnly = { stacks: [{ variant: "ums-alb-passthrough" }] };

test.each<[string, () => Record<string, unknown> | string, string]>([
  [
    "missing certificate file",
    () => baseConfig(files({ privateKey: "missing.pem" })),
    HEAD +
      "ums-edge.yaml: certificates.web.privateKey: the private key 'missing.pem' does not exist (looked at <dir>/missing.pem)\n" +
      "  fix: export the key pair's private key from KeyStore Explorer: type OpenSSL, unencrypted, PEM",
  ],
  [
    "certificate body that is not the head of the chain",
    () => baseConfig(files({ headOnlyBody: "other-body.pem", privateKey: "other-key.pem" })),
    HEAD +
      "ums-edge.yaml: certificates.web.entireChain: 'chain.pem': does not start with the certificate of other-body.pem (chain head: O=IGEL Lab (ums-edge test PKI),OU=web,CN=ums.lab.test; body: O=IGEL Lab (ums-edge test PKI),OU=icg,CN=icg.ums.lab.test)\n" +
      "  fix: export both files from the same keystore entry: 'Head only' for the body, 'Entire chain' for the chain",
  ],
  [
    "key that does not match the certificate",
    () => baseConfig(files({ privateKey: "other-key.pem" })),
    HEAD +
      "ums-edge.yaml: certificates.web.privateKey: 'other-key.pem': does not match the certificate in body.pem\n" +
      "  fix: export the private key of the same keystore entry (compare the entry name with the serial number the UMS shows)",
  ],
  [
    "CA chain that is not PEM",
    () => baseConfig(files({}, "not-pem.pem")),
    HEAD +
      "ums-edge.yaml: certificates.clientCaChain: 'not-pem.pem': holds no PEM certificate ('-----BEGIN CERTIFICATE-----')\n" +
      "  fix: export it in PEM format (KeyStore Explorer: 'PEM' ticked), not DER or PKCS#12",
  ],
  [
    "CA chain with more than 4 levels",
    () => baseConfig(files({}, "deep-ca.pem")),
    HEAD + "ums-edge.yaml: certificates.clientCaChain: 'deep-ca.pem': has a CA chain 5 levels deep; AWS trust stores accept at most 4\n  fix: shorten the chain to 4 levels or fewer",
  ],
  [
    "unknown variant",
    () => baseConfig({ stacks: [{ variant: "ums-nlb-verify" }] }),
    HEAD +
      "ums-edge.yaml: stacks[0].variant: unknown variant; expected one of ums-alb-verify, ums-alb-passthrough, icg-alb-verify, icg-alb-passthrough, ums-direct\n" +
      "  fix: use one of: ums-alb-verify, ums-alb-passthrough, icg-alb-verify, icg-alb-passthrough, ums-direct",
  ],
  [
    "fewer than two subnets",
    () => baseConfig({ network: { vpcId: "vpc-0123456789abcdef0", albSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"], deviceCidrs: ["0.0.0.0/0"] } }),
    HEAD +
      "ums-edge.yaml: network.albSubnetIds: an Application Load Balancer needs subnets in at least two Availability Zones; 1 given\n" +
      "  fix: list two or more public subnet IDs in different Availability Zones",
  ],
  [
    "verify-only option on passthrough",
    () => baseConfig({ stacks: [{ variant: "ums-alb-passthrough", ignoreClientCertificateExpiry: true }] }),
    HEAD +
      "ums-edge.yaml: stacks[0].ignoreClientCertificateExpiry: only valid when the mTLS mode is 'verify'; 'ums-alb-passthrough' uses 'passthrough' (the AWS provider refuses it there)\n" +
      "  fix: remove it from this stack, or use the matching -verify variant",
  ],
  [
    "verify header renamed on passthrough",
    () => baseConfig({ stacks: [{ variant: "icg-alb-passthrough", headerNames: { leaf: "X-Leaf" } }] }),
    HEAD + "ums-edge.yaml: stacks[0].headerNames.leaf: a passthrough listener adds only the X-Amzn-Mtls-Clientcert header\n  fix: rename 'clientcert' instead, or remove it",
  ],
  [
    "load balancer option on ums-direct",
    () => baseConfig({ stacks: [{ variant: "ums-direct", sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06" }] }),
    HEAD + "ums-edge.yaml: stacks[0].sslPolicy: 'ums-direct' has no load balancer, so 'sslPolicy' does not apply\n  fix: remove it from this stack",
  ],
  [
    "misspelled field",
    () => baseConfig({ regoin: "eu-west-1" }),
    HEAD + "ums-edge.yaml: regoin: unknown field\n  fix: remove it or correct its spelling (README.md, 'Configuration reference', lists every field)",
  ],
  [
    "missing required field",
    () => {
      const c = baseConfig();
      delete c.cluster;
      return c;
    },
    HEAD + "ums-edge.yaml: cluster: required field is missing\n  fix: add this required field",
  ],
  [
    "the same variant twice",
    () => baseConfig({ stacks: [{ variant: "ums-direct" }, { variant: "ums-direct" }] }),
    HEAD + "ums-edge.yaml: stacks[1].variant: 'ums-direct' is listed twice\n  fix: list each variant once",
  ],
  [
    "cluster FQDN missing from the web certificate",
    () => baseConfig({ ...files(), cluster: { fqdn: "ums.example.com" } }),
    HEAD +
      "ums-edge.yaml: certificates.web.headOnlyBody: 'body.pem': does not name the cluster FQDN 'ums.example.com' (subject alternative names: DNS:ums.lab.test, DNS:localhost, IP Address:127.0.0.1)\n" +
      "  fix: the IGEL guide requires the cluster FQDN in the web certificate: create one that includes it, or correct cluster.fqdn",
  ],
  [
    "verify stack without a client certificate chain",
    () => baseConfig({ certificates: { web: files().certificates.web } }),
    HEAD +
      "ums-edge.yaml: certificates.clientCaChain: required by the verify stacks (it becomes the trust store)\n" +
      "  fix: give the path of the chain exported with 'Export Client Certificate Chain'",
  ],
  [
    "a CRL file with more revocation lists than a trust store takes",
    () => baseConfig({ certificates: { ...files().certificates, crl: "many.crl.pem" } }),
    HEAD +
      "ums-edge.yaml: certificates.crl: 'many.crl.pem': holds 31 CRLs; an AWS trust store takes at most 30 revocation lists\n" +
      "  fix: keep the CRLs of the CAs in the bundle",
  ],
  [
    "three verify listeners on one load balancer",
    () => baseConfig({ stacks: [{ variant: "ums-alb-verify", listeners: { admin: { port: 9443, mtls: "verify" }, service: { port: 9444, mtls: "verify" } } }] }),
    HEAD +
      "ums-edge.yaml: stacks[0].listeners: would give the load balancer 3 listeners with mTLS verify (mtls, admin, service); AWS allows at most 2 per load balancer\n" +
      "  fix: keep at most 2 verify listeners (set the others' mtls to 'off', or put them on a second stack)",
  ],
  [
    "a passthrough listener on a verify stack",
    () => baseConfig({ stacks: [{ variant: "ums-alb-verify", listeners: { chain: { port: 9443, mtls: "passthrough" } } }] }),
    HEAD +
      "ums-edge.yaml: stacks[0].listeners.chain.mtls: 'passthrough' on a 'verify' stack: the backend reads one forwarded header, so every mTLS listener of a load balancer uses the stack's mode\n" +
      "  fix: use 'off' or 'verify', or put this listener on a -passthrough stack",
  ],
  [
    "an extra listener without a port, and a port used twice",
    () => baseConfig({ stacks: [{ variant: "ums-alb-verify", listeners: { extra: { mtls: "off" }, tls: { port: 8443 } } }] }),
    HEAD +
      "ums-edge.yaml: stacks[0].listeners.extra.port: required for a listener the variant does not have\n  fix: give its port\n" +
      "ums-edge.yaml: stacks[0].listeners.tls.port: port 8443 is also used by listener 'mtls'\n  fix: give each listener its own port",
  ],
  [
    "the mTLS mode of the variant's own listener changed",
    () => baseConfig({ stacks: [{ variant: "ums-alb-passthrough", listeners: { mtls: { mtls: "off" } } }] }),
    HEAD + "ums-edge.yaml: stacks[0].listeners.mtls.mtls: 'mtls' is the variant's listener with mtls 'passthrough'; only its port can change\n  fix: remove 'mtls', or add a listener under another name",
  ],
  [
    "an idle timeout over AWS's maximum",
    () => baseConfig({ stacks: [{ variant: "ums-alb-passthrough", loadBalancer: { idleTimeoutSeconds: 5000 } }] }),
    HEAD + "ums-edge.yaml: stacks[0].loadBalancer.idleTimeoutSeconds: Too big: expected number to be <=4000\n  fix: give a number of at most 4000",
  ],
  [
    "an X-Forwarded-For mode AWS does not have",
    () => baseConfig({ stacks: [{ variant: "ums-alb-passthrough", loadBalancer: { xffHeaderProcessingMode: "overwrite" } }] }),
    HEAD + 'ums-edge.yaml: stacks[0].loadBalancer.xffHeaderProcessingMode: Invalid option: expected one of "append"|"preserve"|"remove"\n  fix: use one of: append, preserve, remove',
  ],
  [
    "a health-check timeout not shorter than the interval",
    () => baseConfig({ stacks: [{ variant: "ums-alb-passthrough", healthCheck: { intervalSeconds: 10, timeoutSeconds: 10 } }] }),
    HEAD + "ums-edge.yaml: stacks[0].healthCheck.timeoutSeconds: 10 s is not less than the interval (10 s); AWS requires the timeout to be shorter\n  fix: lower healthCheck.timeoutSeconds or raise healthCheck.intervalSeconds",
  ],
  [
    "load balancer attributes on ums-direct",
    () => baseConfig({ stacks: [{ variant: "ums-direct", loadBalancer: { idleTimeoutSeconds: 300 } }] }),
    HEAD + "ums-edge.yaml: stacks[0].loadBalancer: 'ums-direct' has no load balancer, so 'loadBalancer' does not apply\n  fix: remove it from this stack",
  ],
  [
    "several servers with ums-direct and a single instance subnet",
    () => baseConfig({ instance: { count: 2 }, network: { ...(baseConfig().network as object), instanceSubnetId: "subnet-0aaaaaaaaaaaaaaa1" } }),
    HEAD +
      "ums-edge.yaml: network.instanceSubnetId: set together with instance.count 2; several servers are spread over network.albSubnetIds (their Availability Zones, in turn)\n  fix: remove network.instanceSubnetId, or set instance.count to 1\n" +
      "ums-edge.yaml: instance.count: 2 servers, but 'ums-direct' (stacks[4]) has no load balancer to spread devices over them\n  fix: set instance.count to 1, or remove the ums-direct stack",
  ],
  [
    "an S3 state key with a leading slash",
    () => baseConfig({ state: { s3: { bucket: "acme-state", key: "/ums-edge", region: "eu-west-1" } } }),
    HEAD + "ums-edge.yaml: state.s3.key: expected an S3 key prefix without leading or trailing '/'",
  ],
  [
    "an admin CIDR that is not one",
    () => baseConfig({ instance: { adminCidrs: ["office"] } }),
    HEAD + "ums-edge.yaml: instance.adminCidrs[0]: expected a CIDR block like '203.0.113.0/24'",
  ],
  [
    "not YAML",
    () => "project: ums-edge\nnetwork: [unclosed\n",
    "ums-edge.yaml is not valid YAML:\nums-edge.yaml:3:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\n  fix: correct the YAML syntax (indentation with spaces, 'key: value')",
  ],
])("refuses %s", async (_name, config, expected) => {
  expect(await refusal(config())).toBe(expected);
});

test("reports every problem of a config at once", async () => {
  const message = await refusal(baseConfig({ ...passthroughOnly, ...files({ privateKey: "other-key.pem", headOnlyBody: "missing.pem" }), region: "Frankfurt" }));
  expect(message.split("\n").filter((l) => l.startsWith("ums-edge.yaml: ")).map((l) => l.split(":")[1].trim())).toEqual(["region"]);
  const fileProblems = await refusal(baseConfig({ ...passthroughOnly, ...files({ privateKey: "other-key.pem", headOnlyBody: "missing.pem", entireChain: "missing2.pem" }) }));
  expect(fileProblems.match(/does not exist/g)).toHaveLength(2);
});

test("accepts the files the IGEL guide exports", async () => {
  const file = writeConfig(dir, baseConfig(files()), "good.yaml");
  const config = await loadConfig(file, { labPki: labPkiCertificates });
  expect(config.stacks.map((s) => s.variant)).toHaveLength(5);
  expect(config.certificates.web?.privateKey).toBe(path.join(dir, "key.pem"));
  // Left-out options stay undefined: their defaults are the constructs'.
  expect(config.stacks.find((s) => s.variant === "ums-alb-verify")?.pathAllowList).toBeUndefined();
  // node-forge wrote the copied lab files with CRLF: synth says that its copies for AWS are LF.
  expect(config.notices.map((n) => [n.level, n.field, n.problem.endsWith("(dropped: CRLF line endings)")])).toEqual([
    ["note", "certificates.clientCaChain", true],
    ["note", "certificates.web.headOnlyBody", true],
    ["note", "certificates.web.entireChain", true],
  ]);
});

test("a config naming labPki without a lab PKI provider is refused, and nothing is written", async () => {
  const pkiDir = path.join(dir, "never-created-pki");
  const file = writeConfig(dir, baseConfig({ certificates: { labPki: pkiDir } }), "lab.yaml");
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await expect(loadConfig("lab.yaml")).rejects.toThrow(
      new ProblemsError([
        {
          file: "lab.yaml",
          field: "certificates.labPki",
          problem: "a generated test PKI is not available here (nothing creates it while only loading a config)",
          fix: "synthesize with 'ums-edge synth' (it creates the lab PKI), or give your UMS's exported files instead",
        },
      ], "lab.yaml is not a valid ums-edge configuration:"),
    );
  } finally {
    process.chdir(cwd);
  }
  expect(fs.existsSync(pkiDir)).toBe(false);
  expect(fs.existsSync(file)).toBe(true);
});

describe("devices.heartbeatSeconds against the load balancers' idle timeout", () => {
  test("warns, naming the stack and the fix, when a stack's idle timeout is not above the heartbeat interval", async () => {
    const file = writeConfig(dir, baseConfig({ devices: { heartbeatSeconds: 90 }, stacks: [{ variant: "ums-alb-verify" }, { variant: "ums-alb-passthrough", loadBalancer: { idleTimeoutSeconds: 120 } }, { variant: "ums-direct" }] }), "heartbeat.yaml");
    const config = await loadConfig(file, { labPki: labPkiCertificates });
    expect(config.notices.map(formatNotice)).toEqual([
      `warning: ${file}: stacks[0].loadBalancer.idleTimeoutSeconds: the 'ums-alb-verify' load balancer closes connections idle for 60 s (AWS's default), but devices.heartbeatSeconds is 90: every quiet device WebSocket is cut and re-established about every 90 s\n` +
        "  fix: set stacks[0].loadBalancer.idleTimeoutSeconds above 90 (e.g. 180)",
    ]);
  });

  test("says nothing when the heartbeat interval is not stated (IGEL does not publish it)", async () => {
    const config = await loadConfig(writeConfig(dir, baseConfig({ stacks: [{ variant: "ums-alb-verify" }] }), "no-heartbeat.yaml"), { labPki: labPkiCertificates });
    expect(config.notices).toEqual([]);
  });
});
