import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { runDoctor, Finding, blockedByFront, failed } from "../../simulator/doctor/doctor";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { Lab } from "../../simulator/runtime/lab";
import { projectRoot } from "../../core/project-root";
import { testLab } from "../helpers/lab";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import { AlbEmulator, StartedAlbEmulator } from "../../simulator/alb";
import { loadConfig } from "../../stacks/config/load-config";
import { synthesize } from "../../stacks/app";
import { labPkiCertificates } from "../../simulator/pki/lab-pki";
import { baseConfig, tempDir, writeConfig } from "../helpers/config";
import { makeCertificate, writeWebExport } from "../helpers/cert-factory";
import { startEchoTarget, EchoTarget } from "../alb/helpers/echo-target";

/** The doctor against the lab's own topologies: a good front, an ALB in verify mode, and a UMS exposed directly (broken). */

let lab: Lab;
const runtime = new LoopbackRuntime();
const running: StartedTopology[] = [];
beforeAll(async () => {
  lab = await testLab();
});
afterAll(async () => {
  for (const t of running) await t.stop();
});

/** One running topology per name, shared by the tests that probe it. */
async function up(name: Parameters<typeof startTopology>[0]): Promise<StartedTopology> {
  const started = running.find((t) => t.name === name);
  if (started) return started;
  const t = await startTopology(name, runtime, lab, { instance: "doctor" });
  running.push(t);
  return t;
}

const BIN = path.join(projectRoot(), "dist", "cli", "index.js");
const find = (findings: Finding[], check: string) => findings.find((f) => f.check === check);
const device = () => ({ cert: fs.readFileSync(lab.pki.devices.good.chain, "utf8"), key: fs.readFileSync(lab.pki.devices.good.key, "utf8") });

test("reverse proxy: TLS 1.3 only, the four IGEL paths reachable, the IMI API blocked, mTLS and the device WebSocket work", async () => {
  const t = await up("reverse-proxy");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...device() });
  expect(findings.filter((f) => f.status === "fail")).toEqual([]);
  expect(find(findings, "TLS 1.3")?.status).toBe("pass");
  expect(find(findings, "TLS 1.2")?.detail).toMatch(/^not offered/);
  expect(find(findings, "blocked path /umsapi/v3/serverstatus")?.status).toBe("pass");
  expect(find(findings, "allowed path /wums-app/")?.detail).toMatch(/^reachable: 200/);
  expect(find(findings, "client certificate required")?.detail).toMatch(/^no:/);
  expect(find(findings, "device WebSocket")?.status).toBe("pass");
});

test("ALB verify: 8443 requires a client certificate and advertises no CA names; 443 does not ask for one", async () => {
  const t = await up("alb-verify");
  const mtls = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...device() });
  expect(find(mtls, "client certificate required")?.detail).toMatch(/^yes:.*; with the given certificate it is accepted/);
  expect(find(mtls, "client certificate request")?.detail).toBe("requested; no CA names advertised");
  expect(find(mtls, "device WebSocket")?.status).toBe("pass");
  const plain = await runDoctor(t.devices.enrollmentUrl, { servername: lab.pki.fqdn });
  expect(find(plain, "client certificate request")?.detail).toBe("not requested (plain TLS listener)");
  expect(find(plain, "blocked path /umsapi/v3/thinclients")?.status).toBe("pass");
  expect(find(plain, "allowed path /webapp/")?.status).toBe("pass");
});

test("ALB verify 8443 with a device certificate: every probe presents it, so TLS 1.3, ciphers, paths and the WebSocket are checked", async () => {
  const t = await up("alb-verify");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...device(), caCert: fs.readFileSync(lab.pki.web.rootCert, "utf8"), caCertName: "web-root.pem" });
  expect(findings.filter((f) => f.status === "fail" || f.status === "skip")).toEqual([]);
  expect(find(findings, "TLS 1.3")).toEqual({ check: "TLS 1.3", status: "pass", detail: "offered (IGEL recommends TLS 1.3 in front of the UMS)" });
  expect(find(findings, "TLS 1.2")?.detail).toBe("offered");
  expect(find(findings, "cipher")?.detail).toMatch(/^TLSv1\.3 TLS_AES_\S+; TLSv1\.2 ECDHE-/);
  expect(find(findings, "served chain")?.detail).toBe("complete: 'CN=ums.lab.test,OU=web,O=IGEL Lab (ums-edge test PKI)' -> 'CN=UMS Lab Web Root CA,OU=web,O=IGEL Lab (ums-edge test PKI)', trusted by web-root.pem");
  // Through the mTLS listener: the allow-list answers, the IMI API does not.
  expect(find(findings, "allowed path /device-connector/")?.status).toBe("pass");
  expect(find(findings, "blocked path /umsapi/v3/serverstatus")).toMatchObject({ status: "pass", detail: "not served: 404 (text/plain)" });
  expect(find(findings, "mTLS with the given certificate")?.detail).toBe("handshake completed (TLSv1.3)");
  expect(find(findings, "device WebSocket")).toEqual({ check: "device WebSocket", status: "pass", detail: expect.stringMatching(/^\/device-connector\/v1\/ws upgraded \(101\); the device protocol is ums-edge's model of IGEL's .*a hint, not a verdict$/) });
});

test("ALB verify 8443 without a certificate: TLS 1.3 is seen offered, and what needs an accepted connection says it could not run", async () => {
  const t = await up("alb-verify");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn });
  expect(find(findings, "TLS 1.3")).toMatchObject({ status: "pass", detail: expect.stringMatching(/^offered \(the server completed the TLS 1\.3 handshake, then refused the client/) });
  const needsCert = "the listener requires a client certificate: give a device's --cert and --key";
  expect(find(findings, "TLS 1.2")).toEqual({ check: "TLS 1.2", status: "skip", detail: `not checked: ${needsCert}` });
  expect(find(findings, "paths")).toEqual({ check: "paths", status: "skip", detail: `allowed and blocked paths not checked: ${needsCert}` });
  expect(find(findings, "server certificate")?.status).toBe("pass"); // seen in the TLS 1.3 handshake
  expect(find(findings, "device WebSocket")?.status).toBe("skip");
  expect(findings.some((f) => f.check.startsWith("blocked path") || f.check.startsWith("allowed path"))).toBe(false);
});

test("a refused device certificate is said to be the reason, not missing TLS versions", async () => {
  const t = await up("alb-verify");
  const revoked = { cert: fs.readFileSync(lab.pki.devices.revoked.chain, "utf8"), key: fs.readFileSync(lab.pki.devices.revoked.key, "utf8") };
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...revoked });
  expect(find(findings, "mTLS with the given certificate")?.status).toBe("fail");
  expect(find(findings, "TLS 1.2")?.detail).toBe("not checked: the listener refused the given client certificate (see 'mTLS with the given certificate')");
  expect(findings.find((f) => /not offered/.test(f.detail))).toBeUndefined();
});

test("a UMS exposed directly (no front) fails: the IMI API is reachable from the device side", async () => {
  const t = await up("direct");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn });
  expect(find(findings, "blocked path /umsapi/v3/serverstatus")).toMatchObject({ status: "fail", detail: expect.stringContaining("reachable from the device side (200") });
  expect(find(findings, "health path")?.detail).toBe("/info answers 200 from outside");
});

test("the command: exit 1 on a failing finding, 2 for a URL that is not https, a table on stdout", () => {
  const bin = BIN;
  const direct = running.find((t) => t.name === "direct")!;
  const r = spawnSync(process.execPath, [bin, "doctor", direct.devices.clusterUrl, "--servername", lab.pki.fqdn], { encoding: "utf8" });
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/^check\s+status\s+detail\n/);
  const http = spawnSync(process.execPath, [bin, "doctor", "http://ums.example.com:8443"], { encoding: "utf8" });
  expect(http.status).toBe(2);
  expect(http.stderr).toBe("ums-edge: URL: 'http://ums.example.com:8443' is not https\n  fix: IGEL devices only speak HTTPS: use https://ums.example.com:8443\n");
});

test("an unreachable address is one failing finding", async () => {
  const findings = await runDoctor("https://127.0.0.1:9", { timeoutMs: 1000 });
  expect(findings).toEqual([{ check: "reachable", status: "fail", detail: expect.stringMatching(/^cannot open a TLS connection to 127\.0\.0\.1:9/) }]);
});

test("front answers are told apart from backend answers", () => {
  expect(blockedByFront({ status: 404, body: "Not Found" })).toBe(true);
  expect(blockedByFront({ status: 404, body: "<html><center>nginx</center></html>" })).toBe(true);
  expect(blockedByFront({ status: 403 })).toBe(true);
  expect(blockedByFront({ status: 404, body: '{"error":"not-found","by":"ums"}' })).toBe(false);
  expect(blockedByFront({ status: 401, body: "{}" })).toBe(false);
});

describe("a served chain that lacks its intermediate (web certificate issued by an intermediate, entire_chain holding the leaf only)", () => {
  let alb: StartedAlbEmulator;
  let target: EchoTarget;
  let dir: string;
  let rootFile: string;
  let intermediateFile: string;
  beforeAll(async () => {
    dir = tempDir("ums-edge-doctor-chain-");
    const root = await makeCertificate("Doctor Web Root CA", undefined, { validityDays: 3650 });
    const intermediate = await makeCertificate("Doctor Web Intermediate CA", root, { validityDays: 1825 });
    const leaf = await makeCertificate(lab.pki.fqdn, intermediate, { profile: "server", dnsNames: [lab.pki.fqdn, "localhost"], ipAddresses: ["127.0.0.1"] });
    const web = writeWebExport(dir, leaf, []); // the mistake: "Export length: Head only" given as the entire chain
    rootFile = path.join(dir, "web-root.pem");
    intermediateFile = path.join(dir, "web-intermediate.pem");
    fs.writeFileSync(rootFile, root.certPem);
    fs.writeFileSync(intermediateFile, intermediate.certPem);
    const config = writeConfig(dir, baseConfig({ certificates: { clientCaChain: lab.pki.clientCaChain, crl: lab.pki.crl, web }, stacks: [{ variant: "ums-alb-verify" }] }));
    const result = synthesize(await loadConfig(config, { labPki: labPkiCertificates }), path.join(dir, "out"));
    target = await startEchoTarget(lab.pki);
    alb = await new AlbEmulator({ stackDir: result.stacks["ums-alb-verify"], target: target.address, ports: { 443: 0, 8443: 0 } }).start();
  });
  afterAll(async () => {
    await alb?.stop();
    await target?.close();
  });

  test("--cacert with the root: FAIL naming the missing intermediate", async () => {
    const findings = await runDoctor(alb.listenerUrl(443), { servername: lab.pki.fqdn, caCert: fs.readFileSync(rootFile, "utf8"), caCertName: "web-root.pem" });
    expect(find(findings, "served chain")).toEqual({
      check: "served chain",
      status: "fail",
      detail: expect.stringMatching(/^incomplete: missing issuer 'CN=Doctor Web Intermediate CA,O=ums-edge tests' of 'CN=ums\.lab\.test,O=ums-edge tests' \(served: 'CN=ums\.lab\.test,O=ums-edge tests'\); serve the intermediate/),
    });
    expect(failed(findings)).toBe(true);
    // Without --cacert the doctor cannot know, and does not pretend to.
    expect(find(await runDoctor(alb.listenerUrl(443), { servername: lab.pki.fqdn }), "served chain")).toBeUndefined();
  });

  test("--cacert with the intermediate itself: the same chain is complete (the check is about the missing issuer, not the server)", async () => {
    const findings = await runDoctor(alb.listenerUrl(443), { servername: lab.pki.fqdn, caCert: fs.readFileSync(intermediateFile, "utf8"), caCertName: "web-intermediate.pem" });
    expect(find(findings, "served chain")?.status).toBe("pass");
  });

  test("on the mTLS listener with a device certificate, through the command: exit 1 and the FAIL line", async () => {
    // Asynchronously: the emulated ALB serves from this process.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "doctor", alb.listenerUrl(8443), "--servername", lab.pki.fqdn, "--cert", lab.pki.devices.good.chain, "--key", lab.pki.devices.good.key, "--cacert", rootFile]);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c));
      child.stderr.on("data", (c: Buffer) => (stderr += c));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\nserved chain +FAIL +incomplete: missing issuer 'CN=Doctor Web Intermediate CA,O=ums-edge tests'/);
    expect(r.stdout).toMatch(/\nTLS 1\.3 +PASS +offered/);
  });
});

test("a front that answers the WebSocket path with 200: the finding says what came back, and that it is our model of IGEL's protocol", async () => {
  // requestCert: the device certificate is sent; every request, upgrade or not, gets a 200 page.
  const server = https.createServer({ key: fs.readFileSync(lab.pki.web.privateKey), cert: fs.readFileSync(lab.pki.web.entireChain), requestCert: true, rejectUnauthorized: false }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>portal</html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const findings = await runDoctor(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, { servername: lab.pki.fqdn, ...device() });
    expect(find(findings, "device WebSocket")).toEqual({
      check: "device WebSocket",
      status: "warn",
      detail: "/device-connector/v1/ws: no WebSocket upgrade: got 200 (text/html); the device protocol is ums-edge's model of IGEL's (IGEL does not publish it): against a real UMS this is a hint, not a verdict",
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("--cacert with a file that is not PEM: refused before any probe, naming the option, the file and the fix; exit 2", () => {
  const dir = tempDir("ums-edge-doctor-cacert-");
  const der = path.join(dir, "web-root.cer");
  fs.writeFileSync(der, new X509Certificate(fs.readFileSync(lab.pki.web.rootCert)).raw); // DER, as Windows exports it
  const r = spawnSync(process.execPath, [BIN, "doctor", "https://127.0.0.1:9", "--cacert", der], { encoding: "utf8" });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(
    `ums-edge: --cacert: '${der}' is not PEM: it holds no '-----BEGIN CERTIFICATE-----' block\n` +
      `  fix: give the CA certificate(s) devices trust (e.g. the UMS web root CA) in PEM; a DER file converts with: openssl x509 -inform der -in ${der} -out ca.pem\n`,
  );
  const missing = spawnSync(process.execPath, [BIN, "doctor", "https://127.0.0.1:9", "--cacert", path.join(dir, "nope.pem")], { encoding: "utf8" });
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/^ums-edge: --cacert: cannot read '.*nope\.pem' \(ENOENT\)\n {2}fix: give the path of a PEM file\n$/);
});
