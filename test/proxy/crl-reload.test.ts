import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { testLabPki } from "../helpers/lab-pki";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { issueDeviceCertificate, revokeInCrl } from "../../simulator/pki/rotation";
import { NginxReverseProxy, proxyTlsFilesFromLabPki, StartedNginxReverseProxy } from "../../simulator/proxy";
import { startEchoUpstream } from "./echo-upstream";
import { nginxUnavailableReason } from "./nginx-available";

/**
 * A new CRL reaches a running nginx (issue 15 §2): the proxy watches the CRL file, renders the
 * revoked serials into its config and reloads nginx; a device revoked since is refused (400) at
 * its next request, the others still pass. A CRL that is not usable leaves the running config.
 */

const unavailable = nginxUnavailableReason();
const withNginx = unavailable ? describe.skip : describe;
const SKIP = unavailable ? ` (skipped: ${unavailable})` : "";

let pki: LabPki;
let dir: string;
let crl: string;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let proxy: StartedNginxReverseProxy;
let device: Awaited<ReturnType<typeof issueDeviceCertificate>>;

function get(cert: { chain: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: proxy.host, port: proxy.port, path: "/device-connector/v1/onboard", ca: fs.readFileSync(pki.web.rootCert), cert: fs.readFileSync(cert.chain), key: fs.readFileSync(cert.key), agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const notes = () => fs.readFileSync(proxy.logs.error, "utf8").split("\n").filter((l) => l.includes("ums-edge:"));

withNginx(`nginx reloads on a new CRL${SKIP}`, () => {
  beforeAll(async () => {
    pki = await testLabPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-crl-reload-"));
    crl = path.join(dir, "crl.pem");
    fs.copyFileSync(pki.crl, crl);
    device = await issueDeviceCertificate({ cert: pki.deviceCa.cert, key: pki.deviceCa.key, presented: pki.deviceCa.chain }, path.join(dir, "device"), "CRL-RELOAD-1");
    upstream = await startEchoUpstream(proxyTlsFilesFromLabPki(pki));
    proxy = await new NginxReverseProxy({ dir: path.join(dir, "nginx"), upstream: upstream.url, ...proxyTlsFilesFromLabPki(pki), crl, trustPollMs: 50 }).start();
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a device revoked while nginx runs is refused at its next request; another device still passes", async () => {
    expect(await get(device)).toBe(200);
    revokeInCrl(crl, pki.deviceCa, device.serialHex);
    await until(() => notes().some((l) => l.includes("reloaded")), "nginx reloaded");
    expect(await get(device)).toBe(400);
    expect(await get(pki.devices.good)).toBe(200);
  });

  test("an unusable CRL is not applied: the running config stays", async () => {
    fs.writeFileSync(crl, "not a CRL\n");
    await until(() => notes().some((l) => l.includes("not applied")), "the broken CRL was refused");
    expect(await get(device)).toBe(400);
  });
});
