import * as fs from "node:fs";
import * as path from "node:path";
import { loadConfig } from "../../stacks/config/load-config";
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
  expect(config.stacks.find((s) => s.variant === "ums-alb-verify")?.pathAllowList).toBe(true);
  expect(config.stacks.find((s) => s.variant === "icg-alb-verify")?.pathAllowList).toBe(false);
});
