import * as fs from "node:fs";
import { TRAVERSAL_DENY_REGEX } from "../../stacks/path-allow-list";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { planStack, renderPlans, StackPlan } from "../../simulator/plan";
import { buildCrl } from "../../simulator/pki/crl";
import { writePublicFile } from "../../simulator/pki/files";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { labPkiCertificates, loadLabPki } from "../../simulator/pki/lab-pki";
import { certificatesFromPem, pemOnly } from "../../core/pem";
import { parseAppConfig } from "../../core/ums-app-config";
import { projectRoot, EXAMPLE_CONFIG } from "../../core/project-root";
import { baseConfig, tempDir, writeConfig } from "../helpers/config";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { makeCertificate, writeWebExport } from "../helpers/cert-factory";

/** The plan view `ums-edge synth` ends with, read back from the synthesized stacks and their assets. */

const BIN = path.join(projectRoot(), "dist", "cli", "index.js");
const DAY = 86_400_000;
const umsEdge = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: projectRoot(), encoding: "utf8", timeout: 120_000 });
const subjects = (file: string) => certificatesFromPem(fs.readFileSync(file, "utf8")).map((c) => c.subject.split("\n").reverse().join(","));

describe("the example config's stacks (synth --json)", () => {
  let out: string;
  let plans: StackPlan[];
  let stdout: string;
  beforeAll(() => {
    out = tempDir("ums-edge-plan-");
    const r = umsEdge(["synth", "--out", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    stdout = r.stdout;
    plans = (JSON.parse(r.stdout) as { outdir: string; stacks: StackPlan[] }).stacks;
  });
  const plan = (name: string) => plans.find((p) => p.name === name)!;
  // The example config names the repository's lab PKI; the plan must show exactly those files.
  const pki = () => loadLabPki(path.resolve(path.dirname(EXAMPLE_CONFIG), "../.lab/pki"));

  test("prints one JSON document naming every stack's cdk.tf.json, and nothing else", () => {
    expect(stdout.trim().startsWith("{")).toBe(true);
    expect(plans.map((p) => p.name)).toEqual(["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify", "icg-alb-passthrough", "ums-direct"]);
    for (const p of plans) {
      expect(p.file).toBe(path.join(out, "stacks", p.name, "cdk.tf.json"));
      expect(fs.existsSync(p.file)).toBe(true);
      expect(p.region).toBe("eu-central-1");
      expect(p.warnings).toEqual([]);
    }
  });

  test("verify stacks: trust store CAs and CRL as the files in the stack hold them", () => {
    for (const name of ["ums-alb-verify", "icg-alb-verify"]) {
      const [ts] = plan(name).trustStores;
      const bundle = certificatesFromPem(fs.readFileSync(pki().clientCaChain, "utf8"));
      expect(ts.caCount).toBe(bundle.length);
      expect(ts.bundleBytes).toBe(fs.statSync(ts.bundleFile).size);
      // synth writes the bundle's PEM blocks only, LF (the lab PKI's files are CRLF).
      expect(fs.readFileSync(ts.bundleFile, "utf8")).toBe(pemOnly(fs.readFileSync(pki().clientCaChain, "utf8"), ["CERTIFICATE"]).text);
      expect(ts.cas.map((c) => c.subject)).toEqual(subjects(pki().clientCaChain));
      for (const [i, ca] of ts.cas.entries()) {
        expect(ca).toMatchObject({ keyType: "RSA 2048", ca: true, notAfter: new Date(bundle[i].validTo).toISOString() });
        expect(ca.daysLeft).toBeGreaterThan(1000);
      }
      expect(ts.crls).toEqual([
        { file: expect.stringContaining(path.join(out, "stacks", name)), issuer: "CN=UMS Lab Device CA,OU=device-ca,O=IGEL Lab (ums-edge test PKI)", thisUpdate: expect.any(String), nextUpdate: expect.any(String), entries: 1 },
      ]);
      expect(Date.parse(ts.crls[0].nextUpdate!)).toBeGreaterThan(Date.now());
    }
    for (const name of ["ums-alb-passthrough", "icg-alb-passthrough", "ums-direct"]) expect(plan(name).trustStores).toEqual([]);
  });

  test("ALB stacks: the web certificate with its SANs, key type, expiry and the served chain in order", () => {
    for (const name of ["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify", "icg-alb-passthrough"]) {
      const [web] = plan(name).webCertificates;
      const leaf = new X509Certificate(fs.readFileSync(pki().web.headOnlyBody));
      expect(web.certificate).toMatchObject({
        subject: "CN=ums.lab.test,OU=web,O=IGEL Lab (ums-edge test PKI)",
        subjectAltNames: ["DNS:ums.lab.test", "DNS:localhost", "IP Address:127.0.0.1"],
        keyType: "RSA 2048",
        notAfter: new Date(leaf.validTo).toISOString(),
        ca: false,
      });
      expect(web.chainSubjects).toEqual(subjects(pki().web.entireChain));
      expect(web.chainSubjects).toHaveLength(2);
    }
  });

  test("listeners: port, mTLS mode, TLS policy, the headers each mode adds, and the allow-list rules", () => {
    const verify = plan("ums-alb-verify").listeners;
    expect(verify.map((l) => [l.port, l.mtls, l.tlsPolicy])).toEqual([
      [443, "off", "ELBSecurityPolicy-TLS13-1-2-2021-06"],
      [8443, "verify", "ELBSecurityPolicy-TLS13-1-2-2021-06"],
    ]);
    expect(verify[1].headers.map((h) => h.name)).toEqual(["X-Amzn-Mtls-Clientcert-Serial-Number", "X-Amzn-Mtls-Clientcert-Issuer", "X-Amzn-Mtls-Clientcert-Subject", "X-Amzn-Mtls-Clientcert-Validity", "X-Amzn-Mtls-Clientcert-Leaf"]);
    expect(verify[0].headers).toEqual([]);
    // Traversal spellings are refused ahead of the allow-list, which AWS's three values per condition split in two rules.
    const allowList = [
      { priority: 2, when: "path *..*", then: "fixed-response 400" },
      { priority: 3, when: `path matches ${TRAVERSAL_DENY_REGEX[0]}`, then: "fixed-response 400" },
      { priority: 10, when: "path /device-connector/*, /ums-appproxy/*, /wums-app/*", then: "forward to ums-edge-uv-tg (HTTPS 8443)" },
      { priority: 11, when: "path /webapp/*", then: "forward to ums-edge-uv-tg (HTTPS 8443)" },
    ];
    for (const l of verify) {
      expect(l.allowList).toEqual({ on: true, paths: ["/device-connector/*", "/ums-appproxy/*", "/wums-app/*", "/webapp/*"] });
      expect(l.defaultAction).toBe("fixed-response 404");
    }
    // 443 first refuses a client's own certificate header, then applies the allow-list.
    expect(verify[0].rules).toEqual([{ priority: 1, when: "header x-amzn-mtls-clientcert-leaf: *", then: "fixed-response 400" }, ...allowList]);
    expect(verify[1].rules).toEqual(allowList);
    const passthrough = plan("ums-alb-passthrough").listeners;
    expect(passthrough.map((l) => [l.port, l.mtls, l.headers.map((h) => h.name)])).toEqual([[8443, "passthrough", ["X-Amzn-Mtls-Clientcert"]]]);
    // The ICG's default: no allow-list, everything forwarded.
    expect(plan("icg-alb-passthrough").listeners[0]).toMatchObject({ allowList: { on: false, paths: [] }, rules: [], defaultAction: "forward to ums-edge-ip-tg (HTTPS 8443)" });
  });

  test("the application.yml block is the stack's output, and parses as the UMS reads it", () => {
    const verifyYml = plan("ums-alb-verify").applicationYml!;
    expect(parseAppConfig(verifyYml, "plan").forwarding).toEqual({ enabled: true, header: "X-Amzn-Mtls-Clientcert-Leaf", encodingType: "URL_AWS" });
    expect(parseAppConfig(plan("ums-alb-passthrough").applicationYml!, "plan").forwarding).toMatchObject({ header: "X-Amzn-Mtls-Clientcert" });
    expect(parseAppConfig(plan("ums-direct").applicationYml!, "plan").forwarding).toEqual({ enabled: false });
  });

  test("ums-direct: no load balancer; its instance and outputs", () => {
    const direct = plan("ums-direct");
    expect(direct.loadBalancer).toBeUndefined();
    expect(direct.listeners).toEqual([]);
    expect(direct.webCertificates).toEqual([]);
    expect(direct.instances).toEqual([
      expect.objectContaining({ instanceType: "t3.xlarge", image: "Windows_Server-2022-English-Full-Base-*", rootVolumeGiB: 100, staticPublicIp: true, ingress: [expect.objectContaining({ ports: "tcp 8443", from: "0.0.0.0/0" })] }),
    ]);
    expect(direct.outputs.map((o) => [o.name, o.value])).toEqual([
      ["cluster_address", "ums.lab.test:8443"],
      ["public_ip", undefined], // known after apply
      ["servers", undefined],
      ["ums_application_yml", expect.stringContaining("enabled: false")],
    ]);
    // Behind an ALB the instance admits only the load balancer's security group.
    expect(plan("ums-alb-verify").instances[0].ingress).toEqual([expect.objectContaining({ ports: "tcp 8443", from: "security group ums-edge-uv-alb-sg" })]);
  });

  test("the table view: the stack files first, then each stack's sections", () => {
    const r = umsEdge(["synth", "--out", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ums-alb-verify +\S+ums-alb-verify\/cdk\.tf\.json\n/);
    const verify = r.stdout.slice(r.stdout.indexOf("\n\nums-alb-verify  "), r.stdout.indexOf("\n\nums-alb-passthrough  "));
    for (const heading of ["listeners of ums-edge-uv-alb", "allow-list: 443 on, 8443 on", "trust store CAs: 2, bundle client-ca-chain.pem", "CRL", "web certificate", "instance", "outputs", "application.yml block", "warnings: none"]) {
      expect(verify).toContain(heading);
    }
    expect(verify).toMatch(/8443 +HTTPS +verify +ELBSecurityPolicy-TLS13-1-2-2021-06 +X-Amzn-Mtls-Clientcert-Serial-Number/);
    expect(verify).toMatch(/chain \(served\) +1\. CN=ums\.lab\.test.*\n +2\. CN=UMS Lab Web Root CA/);
    expect(r.stdout).toMatch(/ums-direct .*\n\n {2}no load balancer: devices reach the server directly/);
  });

  test("a later date makes the same certificates warn: the 30-day window is measured, not assumed", () => {
    const web = new X509Certificate(fs.readFileSync(pki().web.headOnlyBody));
    const soon = new Date(Date.parse(web.validTo) - 20 * DAY);
    const later = planStack(path.join(out, "stacks", "ums-alb-passthrough"), soon);
    expect(later.warnings).toEqual([{ code: "expiring", about: "web certificate", message: expect.stringMatching(/^'CN=ums\.lab\.test,OU=web,O=IGEL Lab \(ums-edge test PKI\)' expires in (19|20) days/) }]);
    const after = planStack(path.join(out, "stacks", "ums-alb-passthrough"), new Date(Date.parse(web.validTo) + DAY));
    expect(after.warnings.map((w) => w.code)).toEqual(["expired"]);
  });
});

describe("warnings from certificates made at test time", () => {
  let plan: StackPlan;
  let text: string;
  beforeAll(async () => {
    const dir = tempDir("ums-edge-plan-warn-");
    // The web CA given as the device CA by mistake: it issued the web certificate and signs the CRL.
    const webRoot = await makeCertificate("Mistaken Web Root CA", undefined, { validityDays: 3650 });
    const leaf = await makeCertificate("ums.lab.test", webRoot, { profile: "server", notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) }); // no SAN, 10 days left
    const web = writeWebExport(dir, leaf, [webRoot]);
    const clientCaChain = path.join(dir, "client-ca-chain.pem");
    writePublicFile(clientCaChain, webRoot.certPem);
    const crl = path.join(dir, "revoked.crl.pem");
    writePublicFile(
      crl,
      buildCrl({ issuerCertificatePem: webRoot.certPem, issuerPrivateKeyPem: webRoot.keys.privateKeyPem, revoked: [], thisUpdate: new Date(Date.now() - 40 * DAY), nextUpdate: new Date(Date.now() - 3 * DAY) }),
    );
    const config = writeConfig(dir, baseConfig({ certificates: { clientCaChain, crl, web }, stacks: [{ variant: "ums-alb-verify" }] }));
    const result = synthesize(await loadConfig(config, { labPki: labPkiCertificates }), path.join(dir, "out"));
    plan = planStack(result.stacks["ums-alb-verify"]);
    text = renderPlans([plan]);
  });

  test("each mistake is one warning that names the certificate", () => {
    expect(plan.warnings).toEqual(
      expect.arrayContaining([
        { code: "expiring", about: "web certificate", message: "'CN=ums.lab.test,O=ums-edge tests' expires in 10 days (" + new Date(Date.parse(plan.webCertificates[0].certificate!.notAfter)).toISOString().slice(0, 10) + "): renew it before deploying" },
        { code: "no-san", about: "web certificate", message: expect.stringMatching(/^'CN=ums\.lab\.test,O=ums-edge tests' has no subject alternative name/) },
        { code: "web-ca-in-trust-store", about: "trust store CA", message: expect.stringMatching(/^'CN=Mistaken Web Root CA,O=ums-edge tests' also issued the web certificate chain \('CN=ums\.lab\.test,O=ums-edge tests'\)/) },
        { code: "crl-past-next-update", about: "CRL", message: expect.stringMatching(/^the CRL of 'CN=Mistaken Web Root CA,O=ums-edge tests' was due for its next update on \d{4}-\d\d-\d\d \(3 days ago\)/) },
      ]),
    );
    expect(plan.warnings).toHaveLength(4);
    expect(plan.webCertificates[0].certificate!.subjectAltNames).toEqual([]);
    expect(plan.trustStores[0].crls[0]).toMatchObject({ issuer: "CN=Mistaken Web Root CA,O=ums-edge tests", entries: 0 });
  });

  test("the table ends with them", () => {
    expect(text).toMatch(/ {2}warnings\n( {4}! .*\n)* {4}! web certificate: 'CN=ums\.lab\.test,O=ums-edge tests' expires in 10 days/);
    expect(text).toContain("SANs            none");
    expect(text.trimEnd().split("\n").pop()).toMatch(/^ {4}! /);
  });
});

test("a web certificate already in ACM (webCertificateArn): the plan names the ARN instead of failing", async () => {
  await testLabPki();
  const dir = tempDir("ums-edge-plan-arn-");
  const arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
  const config = writeConfig(dir, baseConfig({ certificates: { labPki: testPkiDir(), webCertificateArn: arn }, stacks: [{ variant: "ums-alb-passthrough" }] }));
  const result = synthesize(await loadConfig(config, { labPki: labPkiCertificates }), path.join(dir, "out"));
  const plan = planStack(result.stacks["ums-alb-passthrough"]);
  expect(plan.webCertificates).toEqual([{ address: arn, chainSubjects: [], chain: [] }]);
  expect(plan.listeners[0].certificate).toBe(arn);
  expect(plan.warnings).toEqual([]);
  expect(renderPlans([plan])).toContain(`web certificate: ${arn}, already in ACM (not in the stack)`);
});

test("renamed headers, a chosen TLS policy and the allow-list off show as the stack has them", async () => {
  await testLabPki();
  const dir = tempDir("ums-edge-plan-rename-");
  const config = writeConfig(
    dir,
    baseConfig({
      stacks: [{ variant: "ums-alb-verify", pathAllowList: false, sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06", ignoreClientCertificateExpiry: true, headerNames: { leaf: "X-Device-Cert", subject: "X-Device-Subject" } }],
    }),
  );
  const result = synthesize(await loadConfig(config, { labPki: labPkiCertificates }), path.join(dir, "out"));
  const plan = planStack(result.stacks["ums-alb-verify"]);
  const mtls = plan.listeners.find((l) => l.port === 8443)!;
  expect(mtls).toMatchObject({ tlsPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06", ignoreClientCertificateExpiry: true, allowList: { on: false, paths: [] }, rules: [] });
  expect(mtls.headers.map((h) => h.name)).toEqual(["X-Amzn-Mtls-Clientcert-Serial-Number", "X-Amzn-Mtls-Clientcert-Issuer", "X-Device-Subject", "X-Amzn-Mtls-Clientcert-Validity", "X-Device-Cert"]);
  expect(parseAppConfig(plan.applicationYml!, "plan").forwarding).toMatchObject({ header: "X-Device-Cert" });
  expect(renderPlans([plan])).toMatch(/8443 +HTTPS +verify \(expiry ignored\) +ELBSecurityPolicy-TLS13-1-3-2021-06/);
});
