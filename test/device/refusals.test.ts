import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LabPki } from "../../simulator/pki";
import { BrowserClient, DeviceFleet, downloadApp } from "../../simulator/device";
import { APP_DIGEST_HEADER } from "../../simulator/protocol/app-proxy";
import { testLabPki } from "../helpers/lab-pki";

/**
 * Devices and the browser report exactly how they were turned away — a TLS failure, an HTTP status
 * with the refusing component's reason, a network error, or a download whose digest is wrong —
 * against small stand-in servers that misbehave on purpose.
 */

let pki: LabPki;
const servers: https.Server[] = [];

beforeAll(async () => {
  pki = await testLabPki();
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** An HTTPS server with the lab web certificate; `requireCert` makes it refuse untrusted device certificates in the handshake. */
async function server(handler: (req: IncomingMessage, res: ServerResponse) => void, requireCert = false): Promise<string> {
  const s = https.createServer(
    {
      key: fs.readFileSync(pki.web.privateKey),
      cert: fs.readFileSync(pki.web.entireChain),
      ...(requireCert ? { requestCert: true, rejectUnauthorized: true, ca: fs.readFileSync(pki.clientCaChain) } : {}),
    },
    handler,
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  servers.push(s);
  return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const trust = () => ({ caPem: fs.readFileSync(pki.web.rootCert, "utf8"), serverName: pki.fqdn });
const identity = () => ({ certChainPem: fs.readFileSync(pki.devices.good.chain, "utf8"), keyPem: fs.readFileSync(pki.devices.good.key, "utf8") });

describe("app download", () => {
  test("a body that does not match the announced digest is refused, not installed", async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { [APP_DIGEST_HEADER]: "0".repeat(64) });
      res.end(Buffer.alloc(1000, 7));
    });
    const outcome = await downloadApp({ clusterUrl: url, trust: trust(), identity: identity(), app: "chromium", version: "1.0" });
    expect(outcome).toMatchObject({ ok: false, refusal: { stage: "download", kind: "protocol", error: "digest-mismatch", reason: expect.stringContaining("1000 bytes with SHA-256") } });
  });

  test("a body without a digest is refused", async () => {
    const url = await server((_req, res) => res.end("bytes"));
    const outcome = await downloadApp({ clusterUrl: url, trust: trust(), identity: identity(), app: "chromium", version: "1.0" });
    expect(outcome).toMatchObject({ ok: false, refusal: { error: "digest-missing" } });
  });

  test("an HTTP refusal keeps the refusing component's words", async () => {
    const url = await server((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "path-not-allowed", reason: "path outside the allow-list", by: "alb" }));
    });
    const outcome = await downloadApp({ clusterUrl: url, trust: trust(), identity: identity(), app: "chromium", version: "1.0" });
    expect(outcome).toMatchObject({ ok: false, refusal: { kind: "http", status: 404, error: "path-not-allowed", reason: "path outside the allow-list", by: "alb" } });
  });
});

describe("the management connection", () => {
  test("a certificate the server refuses in the TLS handshake is reported as a TLS refusal", async () => {
    const url = await server((_req, res) => res.end(), true);
    const fleet = await new DeviceFleet({ pki, clusterUrl: url, identities: [{ kind: "self-signed" }], handshakeTimeoutMs: 3000 }).start();
    try {
      await fleet.waitForSettled(5000);
      expect(fleet.devices[0].state).toBe("failed");
      // TLS 1.3: the server's alert, or a reset right after the client's handshake (the race decides).
      expect(fleet.devices[0].lastRefusal).toMatchObject({ stage: "connect", kind: "tls", error: expect.stringMatching(/^(ERR_SSL_|ECONNRESET)/) });
    } finally {
      await fleet.stop();
    }
  });

  test("a non-WebSocket answer with a plain-text body is reported with its first words", async () => {
    const url = await server((_req, res) => {
      res.writeHead(503);
      res.end("Service Unavailable");
    });
    const fleet = await new DeviceFleet({ pki, clusterUrl: url, identities: [{ kind: "good" }] }).start();
    try {
      await fleet.waitForSettled(5000);
      expect(fleet.devices[0].lastRefusal).toMatchObject({ kind: "http", status: 503, reason: "Service Unavailable", by: undefined });
    } finally {
      await fleet.stop();
    }
  });
});

describe("the browser", () => {
  test("a server certificate from a CA it does not trust is a TLS refusal", async () => {
    const url = await server((_req, res) => res.end("<html></html>"));
    const browser = new BrowserClient({ baseUrl: url, trustedCaFile: pki.deviceCa.rootCert, serverName: pki.fqdn });
    const [page] = await browser.loadWebApp();
    expect(page).toMatchObject({ ok: false, refusal: { kind: "tls", error: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) } });
  });

  test("a closed port is a network refusal", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const browser = new BrowserClient({ baseUrl: `https://127.0.0.1:${port}`, trustedCaFile: pki.web.rootCert, serverName: pki.fqdn });
    expect(await browser.get("/webapp/")).toMatchObject({ ok: false, refusal: { kind: "network", error: "ECONNREFUSED" } });
  });
});
