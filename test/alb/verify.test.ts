import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import WebSocket from "ws";
import { AlbEmulator, EXPLAIN_HEADER } from "../../simulator/alb";
import type { AlbEvent, StartedAlbEmulator } from "../../simulator/alb";
import { BAD_DEVICE_KINDS, BadDeviceKind, LabPki } from "../../simulator/pki/lab-pki";
import { decodeForwardedCert } from "../../simulator/protocol/forwarded-cert";
import { issueCertificate } from "../../simulator/pki/certificates";
import { publicKeyPemOf } from "../../simulator/pki/keys";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { logLines, request } from "./helpers/client";

/** The connection-log code for each lab bad certificate (client-cert.ts REFUSAL_CODES) and the TLS alert the client sees. */
const EXPECTED: Record<BadDeviceKind, readonly [code: string, alert: RegExp]> = {
  "self-signed": ["ClientCertUntrusted", /alert unknown ca/],
  "other-ca": ["ClientCertUntrusted", /alert unknown ca/],
  expired: ["ClientCertExpired", /alert certificate expired/],
  "not-yet-valid": ["ClientCertNotYetValid", /alert bad certificate/],
  revoked: ["ClientCertCrlHit", /alert certificate revoked/],
  "too-deep": ["ClientCertMaxChainDepthExceeded", /alert bad certificate/],
  "x509-v1": ["ClientCertTypeUnsupported", /alert unsupported certificate/],
  "rsa-1024": ["ClientCertTypeUnsupported", /alert unsupported certificate/],
  "wrong-purpose": ["ClientCertPurposeInvalid", /alert unsupported certificate/],
  "non-ca-issuer": ["ClientCertUntrusted", /alert unknown ca/],
  "sha1-signed": ["ClientCertIncompatible", /alert bad certificate/],
};

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let alb: StartedAlbEmulator;
let albIgnoreExpiry: StartedAlbEmulator | undefined;
let logsDir: string;
const events: AlbEvent[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([
    { variant: "ums-alb-verify", headerNames: { subject: "X-Device-Subject" } },
    { variant: "icg-alb-verify", ignoreClientCertificateExpiry: true },
  ]);
  target = await startEchoTarget(pki);
  logsDir = fs.mkdtempSync(path.join(os.tmpdir(), "alb-logs-"));
  alb = await new AlbEmulator({ stackDir: synth.stacks["ums-alb-verify"], target: target.address, ports: { 8443: 0, 443: 0 }, logsDir, onEvent: (e) => events.push(e) }).start();
});

afterAll(async () => {
  await alb?.stop();
  await albIgnoreExpiry?.stop();
  await target?.close();
  synth?.cleanup();
  if (logsDir) fs.rmSync(logsDir, { recursive: true, force: true });
});

const echo = (body: string) => JSON.parse(body) as EchoReply;

describe("verify mode (ums-alb-verify, listener 8443)", () => {
  test("a good device certificate gets through with the five headers in AWS's formats", async () => {
    const r = await request(`${alb.listenerUrl(8443)}/device-connector/v1/onboard`, { cert: pki.devices.good });
    expect(r.status).toBe(200);
    const h = echo(r.body).headers;
    const leaf = new X509Certificate(fs.readFileSync(pki.devices.good.cert));
    const iso = (d: string) => new Date(d).toISOString().replace(".000Z", "Z");
    expect(h["x-amzn-mtls-clientcert-serial-number"]).toBe(leaf.serialNumber.toUpperCase());
    expect(h["x-amzn-mtls-clientcert-serial-number"]).toMatch(/^[0-9A-F]+$/);
    expect(h["x-amzn-mtls-clientcert-issuer"]).toBe(leaf.issuer.split("\n").reverse().join(","));
    expect(h["x-amzn-mtls-clientcert-issuer"]).toMatch(/^CN=UMS Lab Device CA,OU=device-ca,O=/);
    // renamed by the stack's headerNames.subject
    expect(h["x-device-subject"]).toBe(leaf.subject.split("\n").reverse().join(","));
    expect(h["x-amzn-mtls-clientcert-subject"]).toBeUndefined();
    expect(h["x-amzn-mtls-clientcert-validity"]).toBe(`NotBefore=${iso(leaf.validFrom)};NotAfter=${iso(leaf.validTo)}`);
    const encoded = h["x-amzn-mtls-clientcert-leaf"];
    expect(encoded).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
    expect(encoded).not.toMatch(/%2B|%3D|%2F/); // +, = and / stay as they are
    expect(decodeURIComponent(encoded)).toBe(leaf.toString());
    expect(decodeForwardedCert(encoded)[0].fingerprint256).toBe(leaf.fingerprint256);
    expect(h["x-amzn-mtls-clientcert"]).toBeUndefined(); // the passthrough header is not sent in verify mode
  });

  test.each(BAD_DEVICE_KINDS.flatMap((k) => (["TLSv1.3", "TLSv1.2"] as const).map((v) => [k, v, ...EXPECTED[k]] as const)))(
    "%s certificate over %s: a TLS alert in the handshake, Failed:%s in the connection log, no HTTP answer",
    async (kind, version, code, alert) => {
      const before = target.hits.get("/device-connector/v1/onboard") ?? 0;
      await expect(request(`${alb.listenerUrl(8443)}/device-connector/v1/onboard`, { cert: pki.devices[kind], maxVersion: version })).rejects.toThrow(alert);
      expect(target.hits.get("/device-connector/v1/onboard") ?? 0).toBe(before);
      await alb.flushLogs();
      const subject = new X509Certificate(fs.readFileSync(pki.devices[kind].cert)).subject.split("\n").reverse().join(",");
      const line = logLines(alb.connectionLogDir, "connection").filter((f) => f[7] === subject && f[4] === version).pop();
      expect(line?.[10]).toBe(`Failed:${code}`);
      expect(line?.[6]).toBe("-"); // tls_handshake_latency: only for successful handshakes
      expect(events).toContainEqual(expect.objectContaining({ kind: "connection-refused", listenerPort: 8443, verifyStatus: `Failed:${code}`, reason: expect.stringContaining("lab-device-") }));
    },
  );

  test.each([
    ["TLSv1.3", /alert certificate required/],
    ["TLSv1.2", /alert handshake failure/],
  ] as const)("no client certificate over %s: the alert OpenSSL sends for a missing one, Failed:UnmappedConnectionError", async (version, alert) => {
    await expect(request(`${alb.listenerUrl(8443)}/device-connector/v1/onboard`, { maxVersion: version })).rejects.toThrow(alert);
    expect(events).toContainEqual(expect.objectContaining({ kind: "connection-refused", verifyStatus: "Failed:UnmappedConnectionError", reason: "no client certificate was presented" }));
  });

  test("TLS 1.2: the chain judged is the one the client sent (extra certificates count); TLS 1.3: the chain OpenSSL rebuilt", async () => {
    // The good leaf followed by the too-deep chain's 5 CAs: 6 presented, more than 4, though the good path is 3.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alb-chain-"));
    const chain = path.join(dir, "chain.pem");
    fs.writeFileSync(chain, fs.readFileSync(pki.devices.good.cert, "utf8") + fs.readFileSync(pki.devices["too-deep"].chain, "utf8").split(/(?=-----BEGIN)/).slice(1).join(""));
    const cert = { ...pki.devices.good, chain };
    await expect(request(`${alb.listenerUrl(8443)}/wums-app/`, { cert, maxVersion: "TLSv1.2" })).rejects.toThrow(/alert bad certificate/);
    expect(events).toContainEqual(expect.objectContaining({ verifyStatus: "Failed:ClientCertMaxChainDepthExceeded", reason: expect.stringContaining("presented 6 certificates") }));
    // Over TLS 1.3 Node keeps the leaf and the presented certificates on its issuer path, of the 5 CAs only the device CA (scenarios/assumptions.ts "presented-chain").
    expect((await request(`${alb.listenerUrl(8443)}/wums-app/`, { cert, maxVersion: "TLSv1.3" })).status).toBe(200);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(["TLSv1.2", "TLSv1.3"] as const)("a device certificate over 16 KiB over %s: Failed:ClientCertMaxSizeExceeded, alert bad certificate", async (version) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alb-big-"));
    const keys = { privateKeyPem: fs.readFileSync(pki.devices.good.key, "utf8"), publicKeyPem: publicKeyPemOf(fs.readFileSync(pki.devices.good.key, "utf8")) };
    const big = issueCertificate({
      subject: { commonName: "lab-device-big" },
      publicKeyPem: keys.publicKeyPem,
      issuer: { certificatePem: fs.readFileSync(pki.deviceCa.cert, "utf8"), privateKeyPem: fs.readFileSync(pki.deviceCa.key, "utf8") },
      profile: "client",
      dnsNames: Array.from({ length: 700 }, (_, i) => `device-${i}.a-rather-long-name.example.test`),
    });
    const chain = path.join(dir, "chain.pem");
    fs.writeFileSync(chain, big + fs.readFileSync(pki.deviceCa.cert, "utf8"));
    await expect(request(`${alb.listenerUrl(8443)}/wums-app/`, { cert: { ...pki.devices.good, chain }, maxVersion: version })).rejects.toThrow(/alert bad certificate/);
    expect(events).toContainEqual(expect.objectContaining({ verifyStatus: "Failed:ClientCertMaxSizeExceeded", reason: expect.stringMatching(/presented certificate 1 is \d+ bytes; at most 16384 are accepted/) }));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("client-supplied X-Amzn-Mtls-* headers (and the renamed one) are removed", async () => {
    const r = await request(`${alb.listenerUrl(8443)}/webapp/`, {
      cert: pki.devices.good,
      headers: { "X-Amzn-Mtls-Clientcert-Leaf": "spoofed", "x-amzn-mtls-clientcert": "spoofed", "X-Amzn-Mtls-Anything": "spoofed", "X-Device-Subject": "CN=admin" },
    });
    const h = echo(r.body);
    expect(Object.values(h.headers)).not.toContain("spoofed");
    expect(h.headers["x-amzn-mtls-anything"]).toBeUndefined();
    expect(h.headers["x-device-subject"]).toMatch(/^CN=lab-device-good,/);
    expect(h.rawNames.filter((n) => n.toLowerCase() === "x-amzn-mtls-clientcert-leaf")).toHaveLength(1);
  });

  test("X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id are added (X-Forwarded-For appended)", async () => {
    const r = await request(`${alb.listenerUrl(8443)}/ums-appproxy/v1/apps/x/1`, { cert: pki.devices.good, headers: { "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "1" } });
    const h = echo(r.body).headers;
    expect(h["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("https");
    expect(h["x-forwarded-port"]).toBe("8443");
    expect(h["x-amzn-trace-id"]).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  test("a path outside the allow-list gets the 404 fixed response, explained", async () => {
    const before = target.hits.get("/umsapi/v3/serverstatus") ?? 0;
    const r = await request(`${alb.listenerUrl(8443)}/umsapi/v3/serverstatus`, { cert: pki.devices.good });
    expect(r.status).toBe(404);
    expect(r.body).toBe("Not Found");
    expect(r.headers["content-type"]).toBe("text/plain");
    expect(r.headers.server).toBe("awselb/2.0");
    expect(r.headers[EXPLAIN_HEADER.toLowerCase()]).toMatch(/no rule matched GET \/umsapi\/v3\/serverstatus .*path is one of \/device-connector\/\*.*default action of aws_lb_listener\..*fixed-response 404/);
    expect(target.hits.get("/umsapi/v3/serverstatus") ?? 0).toBe(before);
    expect(events).toContainEqual(expect.objectContaining({ kind: "request-refused", status: 404, url: "/umsapi/v3/serverstatus", decidedBy: expect.stringMatching(/^aws_lb_listener\./) }));
  });

  test("the 443 listener needs no client certificate and adds no mTLS header", async () => {
    const r = await request(`${alb.listenerUrl(443)}/device-connector/v1/onboard`, { method: "POST", body: "csr", headers: { "Content-Type": "text/plain" } });
    expect(r.status).toBe(200);
    const reply = echo(r.body);
    expect(reply.body).toBe("csr");
    expect(reply.headers["x-forwarded-port"]).toBe("443");
    expect(Object.keys(reply.headers).filter((k) => k.startsWith("x-amzn-mtls-"))).toEqual([]);
  });

  test("WebSocket upgrades are proxied both ways, with the mTLS headers on the upgrade request", async () => {
    const ws = new WebSocket(`${alb.listenerUrl(8443).replace("https:", "wss:")}/device-connector/v1/ws`, {
      rejectUnauthorized: false,
      key: fs.readFileSync(pki.devices.good.key),
      cert: fs.readFileSync(pki.devices.good.chain),
    });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (m) => {
        messages.push(String(m));
        if (messages.length === 1) ws.send("ping from device");
        else resolve();
      });
      ws.on("error", reject);
    });
    ws.close();
    const upgrade = JSON.parse(messages[0]) as { headers: Record<string, string> };
    expect(upgrade.headers["x-amzn-mtls-clientcert-leaf"]).toMatch(/^-----BEGIN%20CERTIFICATE/);
    expect(upgrade.headers["x-forwarded-proto"]).toBe("https");
    expect(messages[1]).toBe("ping from device");
  });

  test("access and connection logs: S3 layout, 33 and 15 fields, shared connection trace ID", async () => {
    await request(`${alb.listenerUrl(8443)}/wums-app/`, { cert: pki.devices.good, headers: { "User-Agent": "igel-test/1.0" } });
    await alb.flushLogs();
    expect(alb.accessLogDir).toMatch(new RegExp(`${logsDir}/alb/access/AWSLogs/123456789012/elasticloadbalancing/eu-central-1/\\d{4}/\\d{2}/\\d{2}$`));
    expect(alb.connectionLogDir).toMatch(/\/alb\/connection\/AWSLogs\/123456789012\/elasticloadbalancing\/eu-central-1\//);
    const accessFiles = fs.readdirSync(alb.accessLogDir!);
    expect(accessFiles[0]).toMatch(/^123456789012_elasticloadbalancing_eu-central-1_app\.ums-edge-uv-alb\.[0-9a-f]{16}_\d{8}T\d{4}Z_127\.0\.0\.1_[0-9a-f]{8}\.log$/);
    expect(fs.readdirSync(alb.connectionLogDir!)[0]).toMatch(/^conn_log_123456789012_elasticloadbalancing_eu-central-1_app\./);

    const access = logLines(alb.accessLogDir, "access");
    const connections = logLines(alb.connectionLogDir, "connection");
    expect(access.every((f) => f.length === 33)).toBe(true);
    expect(connections.every((f) => f.length === 15)).toBe(true);
    const line = access.find((f) => f[13] === "igel-test/1.0")!;
    expect(line[0]).toBe("https");
    expect(line[8]).toBe("200");
    expect(line[12]).toMatch(/^GET https:\/\/127\.0\.0\.1:8443\/wums-app\/ HTTP\/1\.1$/);
    expect(line[16]).toMatch(/^arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup\/ums-edge-uv-tg\//);
    expect(line[20]).toBe("10"); // matched rule priority
    expect(line[22]).toBe("forward");
    const conn = connections.find((f) => f[11] === line[29])!;
    expect(conn[10]).toBe("Success");
    expect(conn[3]).toBe("8443");
    expect(conn[4]).toMatch(/^TLSv1\.[23]$/);
    expect(conn[7]).toMatch(/^CN=lab-device-good,/);
    const refused = access.find((f) => f[12].includes("/umsapi/v3/serverstatus"))!;
    expect([refused[8], refused[20], refused[22], refused[4]]).toEqual(["404", "0", "fixed-response", "-"]);
  });

  test("TLS versions follow the listener's policy (TLS13-1-2: 1.2 and 1.3, not 1.1)", async () => {
    const tls = await import("node:tls");
    const url = new URL(alb.listenerUrl(443));
    const version = (max: "TLSv1.1" | "TLSv1.2") =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false, minVersion: "TLSv1", maxVersion: max, ciphers: "DEFAULT@SECLEVEL=0" }, () => {
          resolve(s.getProtocol() ?? "");
          s.end();
        });
        s.on("error", reject);
      });
    await expect(version("TLSv1.2")).resolves.toBe("TLSv1.2");
    await expect(version("TLSv1.1")).rejects.toThrow();
  });
});

describe("verify mode with ignore_client_certificate_expiry (icg-alb-verify)", () => {
  beforeAll(async () => {
    albIgnoreExpiry = await new AlbEmulator({ stackDir: synth.stacks["icg-alb-verify"], target: target.address, ports: { 8443: 0, 443: 0 } }).start();
  });

  test("an expired certificate is accepted; revoked and untrusted ones are still refused", async () => {
    const r = await request(`${albIgnoreExpiry!.listenerUrl(8443)}/anything`, { cert: pki.devices.expired });
    expect(r.status).toBe(200);
    expect(echo(r.body).headers["x-amzn-mtls-clientcert-subject"]).toMatch(/^CN=lab-device-expired,/);
    await expect(request(`${albIgnoreExpiry!.listenerUrl(8443)}/anything`, { cert: pki.devices.revoked })).rejects.toThrow();
    await expect(request(`${albIgnoreExpiry!.listenerUrl(8443)}/anything`, { cert: pki.devices["self-signed"] })).rejects.toThrow();
  });
});
