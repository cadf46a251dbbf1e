import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import WebSocket from "ws";
import { testLabPki } from "../helpers/lab-pki";
import type { LabDeviceKind, LabPki } from "../../simulator/pki/lab-pki";
import { decodeForwardedCert } from "../../simulator/protocol/forwarded-cert";
import { ROUTES } from "../../simulator/protocol/routes";
import { UserError } from "../../core/errors";
import { NginxReverseProxy, proxyTlsFilesFromLabPki, StartedNginxReverseProxy, NginxReverseProxyOptions } from "../../simulator/proxy";
import { startEchoUpstream } from "./echo-upstream";
import { nginxUnavailableReason } from "./nginx-available";

const HEADER = "x-amzn-mtls-clientcert-leaf";

const unavailable = nginxUnavailableReason();
const withNginx = unavailable ? describe.skip : describe;
const SKIP = unavailable ? ` (skipped: ${unavailable})` : "";

interface Reply {
  readonly status: number;
  readonly body: string;
}

let pki: LabPki;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let proxy: StartedNginxReverseProxy;
let tmp: string;

function options(extra: Partial<NginxReverseProxyOptions> = {}): NginxReverseProxyOptions {
  return { dir: fs.mkdtempSync(path.join(tmp, "nginx-")), upstream: upstream.url, ...proxyTlsFilesFromLabPki(pki), ...extra };
}

/** One request through the proxy on a fresh connection (no TLS session reuse between identities). */
function request(
  urlPath: string,
  opts: { device?: LabDeviceKind; headers?: Record<string, string>; method?: string; maxVersion?: "TLSv1.2" | "TLSv1.3"; via?: StartedNginxReverseProxy } = {},
): Promise<Reply> {
  const via = opts.via ?? proxy;
  const device = opts.device ? pki.devices[opts.device] : undefined;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: via.host,
        port: via.port,
        path: urlPath,
        method: opts.method ?? "GET",
        headers: opts.headers,
        ca: fs.readFileSync(pki.web.rootCert),
        cert: device && fs.readFileSync(device.chain),
        key: device && fs.readFileSync(device.key),
        minVersion: "TLSv1.2",
        maxVersion: opts.maxVersion ?? "TLSv1.3",
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.method === "POST" ? "{}" : undefined);
  });
}

/** The headers the upstream saw for a proxied request (the echo body). */
function upstreamHeaders(reply: Reply): Record<string, string | undefined> {
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.body) as { headers: Record<string, string | undefined> }).headers;
}

function fingerprint(certFile: string): string {
  return new X509Certificate(fs.readFileSync(certFile)).fingerprint256;
}

/** Runs `fn` and returns how many requests reached the upstream meanwhile. */
async function reachedUpstream<T>(fn: () => Promise<T>): Promise<{ result: T; reached: number }> {
  const before = upstream.seen.length;
  const result = await fn();
  return { result, reached: upstream.seen.length - before };
}

withNginx(`NginxReverseProxy (real nginx)${SKIP}`, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-proxy-"));
    pki = await testLabPki();
    upstream = await startEchoUpstream({ certificateChain: pki.web.entireChain, privateKey: pki.web.privateKey });
    proxy = await new NginxReverseProxy(options()).start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("runs from its own directory: config, pid and logs there, never the system's", () => {
    expect(path.dirname(proxy.configPath)).toBe(proxy.dir);
    expect(path.dirname(proxy.logs.access)).toBe(proxy.dir);
    expect(fs.existsSync(path.join(proxy.dir, "nginx.pid"))).toBe(true);
    const conf = fs.readFileSync(proxy.configPath, "utf8");
    expect(conf).not.toMatch(/\/etc\/nginx|\/var\/log|\/run\/nginx/);
    expect(conf).toContain("ssl_protocols TLSv1.3;");
    expect(proxy.url).toBe(`https://127.0.0.1:${proxy.port}`);
  });

  test("a good device certificate is forwarded URL-encoded in the configured header", async () => {
    const headers = upstreamHeaders(await request(ROUTES.deviceSocket, { device: "good" }));
    const [leaf] = decodeForwardedCert(headers[HEADER]);
    expect(leaf.fingerprint256).toBe(fingerprint(pki.devices.good.cert));
    expect(headers["x-forwarded-proto"]).toBe("https");
  });

  test.each([
    ["other-ca", /self-signed certificate in certificate chain/],
    ["self-signed", /self.signed certificate/],
    ["expired", /certificate has expired/],
    ["not-yet-valid", /certificate is not yet valid/],
    ["revoked", /certificate revoked/],
    // OpenSSL stops building the chain at ssl_verify_depth and reports the issuer it did not look for
    // (with a deeper limit this chain is accepted: it is the depth that refuses it).
    ["too-deep", /unable to get local issuer certificate/],
  ] as const)("the %s device certificate is refused by nginx on every path, never reaching the UMS", async (kind, reason) => {
    for (const urlPath of [ROUTES.deviceSocket, ROUTES.onboard]) {
      const { result, reached } = await reachedUpstream(() => request(urlPath, { device: kind }));
      expect(result.status).toBe(400);
      expect(result.body).toMatch(/client certificate refused by the reverse proxy: FAILED:/);
      expect(result.body).toMatch(reason);
      expect(reached).toBe(0);
    }
  });

  test("without a certificate, onboarding is forwarded without the header", async () => {
    const headers = upstreamHeaders(await request(ROUTES.onboard, { method: "POST" }));
    expect(headers[HEADER]).toBeUndefined();
  });

  test("without a certificate, the management path is answered 401 by nginx", async () => {
    const { result, reached } = await reachedUpstream(() => request(ROUTES.deviceSocket));
    expect(result.status).toBe(401);
    expect(result.body).toContain("ssl_client_verify=NONE");
    expect(reached).toBe(0);
  });

  test("client-sent forwarded-certificate headers never reach the UMS", async () => {
    const spoof = { "X-Amzn-Mtls-Clientcert-Leaf": "spoofed", "x-amzn-mtls-clientcert": "spoofed", "X-Amzn-Mtls-Clientcert-Subject": "CN=admin" };
    const anonymous = upstreamHeaders(await request(ROUTES.onboard, { headers: spoof }));
    expect(anonymous[HEADER]).toBeUndefined();
    expect(anonymous["x-amzn-mtls-clientcert"]).toBeUndefined();
    expect(anonymous["x-amzn-mtls-clientcert-subject"]).toBeUndefined();

    const withCert = upstreamHeaders(await request(ROUTES.deviceSocket, { device: "good", headers: spoof }));
    expect(decodeForwardedCert(withCert[HEADER])[0].fingerprint256).toBe(fingerprint(pki.devices.good.cert));
  });

  test.each([
    ["/umsapi/v3/thinclients", 404],
    ["/info", 404],
    ["/device-connector/../umsapi/v3/thinclients", 400],
    ["/device-connector/..;/umsapi/v3/thinclients", 400],
    ["/device-connector/%2e%2e/umsapi/v3/thinclients", 400],
    ["/device-connector/x%2f..%2f..%2fumsapi/v3/thinclients", 400],
  ])("%s is answered %i by nginx, never reaching the UMS", async (urlPath, status) => {
    const { result, reached } = await reachedUpstream(() => request(urlPath, { device: "good" }));
    expect(result.status).toBe(status);
    expect(reached).toBe(0);
  });

  test.each(["/ums-appproxy/v1/apps/x/1.0", "/wums-app/", "/webapp/"])("%s is proxied (no certificate needed)", async (urlPath) => {
    const { result, reached } = await reachedUpstream(() => request(urlPath));
    expect(result.status).toBe(200);
    expect(reached).toBe(1);
  });

  test("WebSocket upgrade with a device certificate reaches the UMS with the forwarded header", async () => {
    const device = pki.devices.good;
    const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}${ROUTES.deviceSocket}`, {
      ca: fs.readFileSync(pki.web.rootCert),
      cert: fs.readFileSync(device.chain),
      key: fs.readFileSync(device.key),
    });
    try {
      const messages: string[] = [];
      const next = () => new Promise<string>((resolve, reject) => {
        ws.once("message", (d) => resolve(d.toString()));
        ws.once("error", reject);
      });
      const hello = next();
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      messages.push(await hello);
      const echoed = next();
      ws.send("ping-1");
      messages.push(await echoed);
      const { headers } = JSON.parse(messages[0]) as { headers: Record<string, string> };
      expect(decodeForwardedCert(headers[HEADER])[0].fingerprint256).toBe(fingerprint(device.cert));
      expect(messages[1]).toBe("echo:ping-1");
    } finally {
      ws.terminate();
    }
  });

  test("a TLS 1.2 client is refused (TLS 1.3 only)", async () => {
    await expect(request(ROUTES.onboard, { maxVersion: "TLSv1.2" })).rejects.toThrow(/protocol version|handshake|alert/i);
  });

  test("the access log records the verification result of each request", () => {
    const log = fs.readFileSync(proxy.logs.access, "utf8");
    expect(log).toMatch(/"GET \/device-connector\/v1\/ws HTTP\/1.1" 401 .*ssl_client_verify=NONE/);
    expect(log).toMatch(/ 400 .*ssl_client_verify=SUCCESS serial=\w+ revoked=1/);
    expect(log).toMatch(/ 400 .*ssl_client_verify=FAILED:certificate has expired/);
  });

  test("with upstreamTrustedCa, the UMS certificate is verified: the web root passes, another CA gives 502", async () => {
    const trusting = await new NginxReverseProxy(options({ upstreamTrustedCa: pki.web.rootCert, upstreamServerName: "localhost" })).start();
    const distrusting = await new NginxReverseProxy(options({ upstreamTrustedCa: pki.clientCaChain, upstreamServerName: "localhost" })).start();
    try {
      expect((await request(ROUTES.onboard, { via: trusting })).status).toBe(200);
      expect((await request(ROUTES.onboard, { via: distrusting })).status).toBe(502);
    } finally {
      await trusting.stop();
      await distrusting.stop();
    }
  });

  test("a custom header name from application.yml is used instead", async () => {
    const custom = await new NginxReverseProxy(options({ forwardedCertHeader: "X-Client-Cert" })).start();
    try {
      const headers = upstreamHeaders(await request(ROUTES.deviceSocket, { device: "good", via: custom, headers: { "X-Client-Cert": "spoofed" } }));
      expect(decodeForwardedCert(headers["x-client-cert"])[0].fingerprint256).toBe(fingerprint(pki.devices.good.cert));
      expect(headers[HEADER]).toBeUndefined();
    } finally {
      await custom.stop();
    }
  });

  test("scaled for many held sessions: several workers on reuseport sockets, each allowed its descriptors, forwarding as one", async () => {
    const scaled = await new NginxReverseProxy(options({ scale: { workerProcesses: 2, workerConnections: 2000, workerRlimitNofile: 2100 } })).start();
    try {
      const config = fs.readFileSync(path.join(scaled.dir, "nginx.conf"), "utf8");
      expect(config).toMatch(/^worker_processes 2;$/m);
      expect(config).toMatch(/^worker_rlimit_nofile 2100;$/m);
      expect(config).toMatch(/^\s+worker_connections 2000;$/m);
      expect(config).toMatch(/listen 127\.0\.0\.1:\d+ ssl reuseport;/);
      // Either worker answers; every answer forwards the verified certificate.
      for (let i = 0; i < 4; i++) {
        const headers = upstreamHeaders(await request(ROUTES.deviceSocket, { device: "good", via: scaled }));
        expect(decodeForwardedCert(headers[HEADER])[0].fingerprint256).toBe(fingerprint(pki.devices.good.cert));
      }
    } finally {
      await scaled.stop();
    }
  });

  test("stop() waits for nginx to exit and frees the port", async () => {
    const extra = await new NginxReverseProxy(options()).start();
    await extra.stop();
    await expect(request(ROUTES.onboard, { via: extra })).rejects.toThrow(/ECONNREFUSED/);
  });

  test("nginx rejecting the generated config is reported with nginx's own message", async () => {
    const notACert = path.join(tmp, "not-a-cert.pem");
    fs.writeFileSync(notACert, "this is not PEM\n");
    const start = new NginxReverseProxy(options({ certificateChain: notACert })).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(/nginx rejected the generated config .*nginx\.conf:\n.*not-a-cert\.pem/);
  });
});

describe("NginxReverseProxy bad input", () => {
  const base: NginxReverseProxyOptions = {
    dir: path.join(os.tmpdir(), "ums-edge-proxy-never-created"),
    upstream: "https://127.0.0.1:8443",
    certificateChain: __filename,
    privateKey: __filename,
    clientCaChain: __filename,
  };

  test("nginx missing: a UserError naming the fix, before anything is written", async () => {
    const dir = path.join(os.tmpdir(), `ums-edge-proxy-missing-${process.pid}`);
    const start = new NginxReverseProxy({ ...base, dir, nginxBinary: "/nonexistent/sbin/nginx" }).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(/nginx not found: '\/nonexistent\/sbin\/nginx'.*\n.*run scripts\/ensure-system-tools\.sh.*apt-get install -y nginx-light/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test.each([
    [{ upstream: "http://127.0.0.1:8443" }, "upstream: 'http://127.0.0.1:8443' is not an https://host:port URL"],
    [{ upstream: "https://ums/some/path" }, "upstream: 'https://ums/some/path' is not an https://host:port URL"],
    [{ crl: "/nonexistent/crl.pem" }, "crl: file '/nonexistent/crl.pem' does not exist"],
    [{ port: 70000 }, "port: 70000 is not a TCP port"],
    [{ commandPrefix: ["ip", "netns", "exec", "x"] }, "port: a free port cannot be picked from outside the command prefix"],
    [{ forwardedCertHeader: "X-Cert: evil" }, "forwardedCertHeader: 'X-Cert: evil' is not an HTTP header name"],
    [{ clientCertificateRequiredPaths: ["/umsapi/"] }, "clientCertificateRequiredPaths: '/umsapi/' is not a plain path under"],
    [{ verifyDepth: 0 }, "verifyDepth: 0 is not a usable verification depth"],
    [{ dir: "/tmp/$evil" }, "dir: '/tmp/$evil' contains a character nginx.conf cannot hold"],
    [{ scale: { workerProcesses: 0, workerConnections: 100, workerRlimitNofile: 200 } }, "scale.workerProcesses: 0 is not a number of workers"],
    [{ scale: { workerProcesses: 2, workerConnections: 5000, workerRlimitNofile: 4000 } }, "scale.workerConnections: 5000 connections with worker_rlimit_nofile 4000"],
  ] as Array<[Partial<NginxReverseProxyOptions>, string]>)("%j is refused: %s", async (bad, message) => {
    const start = new NginxReverseProxy({ ...base, ...bad }).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(message);
  });
});
