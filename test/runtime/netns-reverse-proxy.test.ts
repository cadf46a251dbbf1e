import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { testLabPki } from "../helpers/lab-pki";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { decodeForwardedCert } from "../../simulator/protocol/forwarded-cert";
import { ROUTES } from "../../simulator/protocol/routes";
import { NginxReverseProxy, proxyTlsFilesFromLabPki, StartedNginxReverseProxy } from "../../simulator/proxy";
import { NetnsLab, netnsAvailability, StartedNetnsLab } from "../../simulator/runtime/netns";
import { placeSecurityGroups, REVERSE_PROXY_SECURITY_GROUPS } from "../../simulator/runtime/security-groups";
import { nginxUnavailableReason } from "../proxy/nginx-available";
import { acquireHostRouteLock } from "../../simulator/runtime/netns/host-route-lock";

// One namespace lab at a time across jest workers (simulator/runtime/netns/host-route-lock.ts: the lock its labs take, re-entrant, held by the suite so its checks of the host see no other suite's lab).
let releaseNetns: (() => void) | undefined;
beforeAll(async () => {
  releaseNetns = await acquireHostRouteLock();
}, 610_000);
afterAll(() => releaseNetns?.());

const available = netnsAvailability();
const reason = available.ok ? nginxUnavailableReason() : `needs root and ip netns — ${available.reason}`;
const SKIP = reason ? ` (skipped: ${reason})` : "";
const maybe = reason ? describe.skip : describe;

// Plain JavaScript run with `node -e` inside the namespaces (the component code is not needed here).
const UPSTREAM = `
const fs = require("fs");
require("https").createServer({ cert: fs.readFileSync(process.env.CERT), key: fs.readFileSync(process.env.KEY) }, (req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ url: req.url, from: req.socket.remoteAddress, cert: req.headers["x-amzn-mtls-clientcert-leaf"] || null }));
}).listen(8443, "0.0.0.0", () => console.log("listening"));
`;
const CLIENT = `
const fs = require("fs"); const e = process.env;
const req = require("https").request({ host: e.HOST, port: 8443, path: e.URL_PATH, servername: e.SNI, ca: fs.readFileSync(e.CA),
  cert: e.CERT ? fs.readFileSync(e.CERT) : undefined, key: e.KEY ? fs.readFileSync(e.KEY) : undefined, timeout: 3000 }, (res) => {
  let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => console.log(JSON.stringify({ status: res.statusCode, body })));
});
req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
req.on("error", (err) => console.log(JSON.stringify({ error: err.code || err.message })));
req.end();
`;

maybe(`reverse-proxy topology in namespaces: real nginx on the public side, UMS on the private side${SKIP}`, () => {
  let pki: LabPki;
  let lab: StartedNetnsLab;
  let proxy: StartedNginxReverseProxy;
  let dir: string;

  beforeAll(async () => {
    pki = await testLabPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-netns-proxy-"));
    lab = await new NetnsLab({ prefix: "uetestp-" }).start();
    await lab.applySecurityGroups(placeSecurityGroups(REVERSE_PROXY_SECURITY_GROUPS, { front: "public", backend: "private" }));
    const ums = lab.spawn("private", process.execPath, ["-e", UPSTREAM], { env: { ...process.env, CERT: pki.web.entireChain, KEY: pki.web.privateKey } });
    await ums.waitForLine(/listening/);
    proxy = await new NginxReverseProxy({
      dir,
      upstream: `https://${lab.address("private")}:8443`,
      host: lab.address("public"),
      port: 8443,
      commandPrefix: lab.commandPrefix("public"),
      ...proxyTlsFilesFromLabPki(pki),
    }).start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await lab?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function deviceRequest(urlPath: string, device?: "good"): Promise<{ status?: number; body?: string; error?: string }> {
    const d = device && pki.devices[device];
    const env = { ...process.env, HOST: lab.address("public"), URL_PATH: urlPath, SNI: pki.fqdn, CA: pki.web.rootCert, CERT: d?.chain ?? "", KEY: d?.key ?? "" };
    const r = await lab.exec("internet", process.execPath, ["-e", CLIENT], { env });
    return JSON.parse(r.stdout.trim()) as { status?: number; body?: string; error?: string };
  }

  test("a device on the internet side reaches the UMS through nginx, its certificate forwarded", async () => {
    const reply = await deviceRequest(ROUTES.deviceSocket, "good");
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body!) as { from: string; cert: string };
    expect(seen.from).toBe(lab.address("public"));
    expect(decodeForwardedCert(seen.cert)[0].fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.devices.good.cert)).fingerprint256);
  });

  test("the device cannot open a connection to the UMS directly, and nginx does not proxy /umsapi/", async () => {
    expect(await lab.probe("internet", lab.address("private"), 8443)).toBe("timeout");
    expect((await deviceRequest("/umsapi/v3/thinclients", "good")).status).toBe(404);
  });
});
