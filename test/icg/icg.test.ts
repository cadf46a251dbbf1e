import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { WebSocket } from "ws";
import { LabPki } from "../../simulator/pki";
import { Icg, StartedIcg } from "../../simulator/icg";
import { MockUms } from "../../simulator/ums";
import { ICG_STATUSES, TUNNEL_MAX_BYTES } from "../../simulator/protocol/icg-tunnel";
import { UserError } from "../../core/errors";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { openWs, closed, request, RawTls } from "./support/clients";

/**
 * The ICG on its own: who may become its UMS (mutual authentication on the tunnel), what a bad
 * tunnel frame does (a close code and a log line, never the ICG going down), what devices get
 * before any UMS is connected, and options it refuses before it starts.
 */

let pki: LabPki;
let icg: StartedIcg;
const read = (file: string) => fs.readFileSync(file, "utf8");

beforeAll(async () => {
  pki = await testLabPki();
  icg = await new Icg({ pki, port: 0, relayTimeoutMs: 2000 }).start();
});

afterAll(async () => {
  await icg?.stop();
});

const icgTls = (cert?: { chain: string; key: string }): RawTls => ({ ca: read(pki.web.rootCert), servername: icg.serverName, cert: cert && read(cert.chain), key: cert && read(cert.key) });
const asUms = () => icgTls(pki.umsClient);
const REGISTER = () => ({ type: "register", umsVersion: "12.07.100-test", fqdn: pki.fqdn, deviceCaChain: read(pki.clientCaChain), crl: read(pki.crl) });

/** A raw tunnel with the UMS's certificate. */
async function tunnel(): Promise<WebSocket> {
  const result = await openWs(icg.tunnelUrl, asUms());
  if (result.kind !== "open") throw new Error(`tunnel refused: ${JSON.stringify(result)}`);
  return result.ws;
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer) => resolve(JSON.parse(data.toString())));
    ws.once("close", (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
  });
}

describe("before any UMS has connected", () => {
  test("the status is warn, and devices are refused with 503 'no UMS connected' (the ICG has no device CA yet)", async () => {
    expect(icg.status).toBe("warn");
    const onboarding = await request(icg.onboardUrl, icgTls(), { method: "POST", body: "{}" });
    expect(onboarding.status).toBe(503);
    expect(onboarding.json).toEqual({ error: "no-ums-connected", reason: expect.stringMatching(/^no UMS connected to this ICG/), by: "icg" });
    expect(onboarding.headers["retry-after"]).toBe("5");
    const socket = await openWs(icg.wsUrl, icgTls(pki.devices.good));
    expect(socket).toMatchObject({ kind: "refused", status: 503, body: { error: "no-ums-connected", by: "icg" } });
    expect(icg.logs.filter((e) => e.event === "refused" && e.error === "no-ums-connected").map((e) => e.path)).toEqual(["/device-connector/v1/onboard", "/device-connector/v1/ws"]);
  });

  test("the update proxy path is refused as unavailable through an ICG", async () => {
    const answer = await request(`${icg.url}/ums-appproxy/v1/apps/chromium/1.0`, icgTls(pki.devices.good));
    expect(answer.status).toBe(501);
    expect(answer.json).toEqual({ error: "update-proxy-unavailable", reason: expect.stringContaining("IGEL App Portal"), by: "icg" });
  });
});

describe("who may connect as the UMS", () => {
  test.each([
    ["no client certificate", "none", 401, "no-client-certificate", /needs the UMS's client certificate .* none was presented/],
    ["a device certificate", "device", 401, "ums-certificate-untrusted", /not one the ICG accepts from a UMS \(untrusted\): no trusted CA issued 'UMS Lab Device CA'.*issued by 'UMS Lab Web Root CA'/],
    ["the web server certificate (issued by the right CA, but not for client authentication)", "web", 403, "ums-certificate-not-for-client-auth", /'ums\.lab\.test' .* lacks clientAuth/],
  ] as const)("%s (presented: %s): refused with %i %s, and one log line", async (_what, who, status, error, reason) => {
    const cert = who === "device" ? pki.devices.good : who === "web" ? { chain: pki.web.entireChain, key: pki.web.privateKey } : undefined;
    const result = await openWs(icg.tunnelUrl, icgTls(cert));
    expect(result).toEqual({ kind: "refused", status, body: { error, reason: expect.stringMatching(reason), by: "icg" } });
    const body = (result as { body: { reason: string } }).body;
    expect(icg.logs.filter((e) => e.event === "refused" && e.reason === body.reason)).toEqual([expect.objectContaining({ status, error, path: "/usg/v1/tunnel" })]);
    expect(icg.status).toBe("warn");
  });

  test("the UMS's client certificate is admitted; 'register' makes the ICG ready, and a newer UMS connection replaces it", async () => {
    const ws = await tunnel();
    expect(icg.status).toBe("init");
    ws.send(JSON.stringify(REGISTER()));
    expect(await nextMessage(ws)).toEqual({ type: "registered", icgVersion: expect.any(String), serverName: `icg.${pki.fqdn}` });
    expect(icg.status).toBe("ok");
    expect(icg.umsConnected).toBe(true);

    const newer = await tunnel();
    expect(await closed(ws)).toEqual({ code: 4409, reason: "replaced by a newer connection of a UMS" });
    newer.close();
    await closed(newer);
    await icg.waitForLog((e) => e.event === "ums-disconnected" && e.wasActive === true);
    expect(icg.status).toBe("warn");
  });
});

describe("bad tunnel frames: a close code and a log line, and the ICG stays up", () => {
  const oversized = (): string => JSON.stringify({ type: "register", pad: "x".repeat(TUNNEL_MAX_BYTES) });
  const frames: ReadonlyArray<readonly [string, number, () => string | Buffer, RegExp]> = [
    ["text that is not JSON", 1003, () => "{not json", /not valid JSON/],
    ["a binary frame", 1003, () => Buffer.from([1, 2, 3]), /binary tunnel frames are not accepted/],
    ["an unknown message type", 4400, () => JSON.stringify({ type: "shell", cmd: "id" }), /unknown tunnel message type "shell" from the UMS/],
    ["a register without the device CA chain", 4400, () => JSON.stringify({ type: "register", umsVersion: "x", fqdn: "y" }), /'register' tunnel message has an invalid 'deviceCaChain'/],
    ["a relayed answer before 'register'", 4400, () => JSON.stringify({ type: "session-accepted", sid: "abc" }), /expected 'register' first, got 'session-accepted'/],
    ["a register whose device CA chain is not a certificate", 4400, () => JSON.stringify({ ...REGISTER(), deviceCaChain: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }), /device CA chain or CRL is unusable/],
    ["a frame over the tunnel's size limit", 1009, oversized, /./],
  ];
  test.each(frames)("%s → close %i", async (_what, code, frame, reason) => {
    const ws = await tunnel();
    const done = closed(ws);
    ws.send(frame());
    const result = await done;
    expect(result.code).toBe(code);
    // One log line names the close: the refused frame, or (over the size limit) ws's own error.
    const logged = icg.logs.filter((e) => (e.event === "tunnel-message-refused" && e.closeCode === code) || (code === 1009 && e.event === "ums-tunnel-error"));
    expect(logged.length).toBeGreaterThan(0);
    if (code !== 1009) {
      expect(result.reason).toMatch(reason);
      expect(logged).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(reason), ums: `ums-server.${pki.fqdn}` }));
    }
    // Still serving: the status route answers with one of its statuses.
    expect(ICG_STATUSES).toContain((await request(icg.statusUrl, icgTls())).json.status);
  });

  test("an unusable registration leaves the status at err until a UMS registers properly", async () => {
    const ws = await tunnel();
    ws.send(JSON.stringify({ ...REGISTER(), deviceCaChain: "not a certificate" }));
    expect((await closed(ws)).code).toBe(4400);
    const status = await request(icg.statusUrl, icgTls());
    expect([status.status, status.json]).toEqual([503, { status: "err" }]);
    expect(icg.logs).toContainEqual(expect.objectContaining({ event: "ums-registration-refused", level: "error", reason: expect.stringContaining("holds no '-----BEGIN CERTIFICATE-----' block") }));

    // After all of the above, a real UMS connects and is served.
    const ums = await new MockUms({ pki, port: 0, icg: { url: icg.url } }).start();
    try {
      expect(ums.icgConnected).toBe(true);
      expect((await request(icg.statusUrl, icgTls())).json).toEqual({ status: "ok" });
    } finally {
      await ums.stop();
    }
  });
});

test("a UMS that connects but never registers is closed with 1008 after the relay timeout", async () => {
  const slow = await new Icg({ pki, port: 0, relayTimeoutMs: 100 }).start();
  try {
    const result = await openWs(slow.tunnelUrl, { ...asUms(), servername: slow.serverName });
    if (result.kind !== "open") throw new Error("refused");
    expect(await closed(result.ws)).toEqual({ code: 1008, reason: "no 'register' within 100 ms" });
  } finally {
    await slow.stop();
  }
});

describe("options the ICG refuses before it starts", () => {
  test.each([
    ["a port out of range", { port: 70000 }, "ICG options: 'port' must be an integer from 0 to 65535 (got 70000)"],
    ["a relay timeout of 0", { relayTimeoutMs: 0 }, "ICG options: 'relayTimeoutMs' must be at least 10 (got 0)"],
  ])("%s", (_what, options, message) => {
    expect(() => new Icg({ pki, ...options })).toThrow(new UserError(message));
  });

  test("a certificate with someone else's key, a CA file without certificates, a missing PKI", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-icg-opt-"));
    try {
      await expect(new Icg({ pki, port: 0, certificate: { chainFile: pki.icg.chain, keyFile: pki.web.privateKey } }).start()).rejects.toThrow(
        new UserError(`ICG: the private key '${pki.web.privateKey}' does not belong to the certificate '${pki.icg.chain}'`),
      );
      const notPem = path.join(dir, "ca.pem");
      fs.writeFileSync(notPem, "just text\n");
      await expect(new Icg({ pki, port: 0, umsTrustedCaFile: notPem }).start()).rejects.toThrow(/is not usable as the CA for the UMS's certificate: the CA bundle holds no/);
      await expect(new Icg({ pki: path.join(dir, "nope"), port: 0 }).start()).rejects.toThrow(/no lab PKI in/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a port already taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(new Icg({ pki: testPkiDir(), port }).start()).rejects.toThrow(new UserError(`ICG: cannot listen on 127.0.0.1:${port} (EADDRINUSE); choose another --host/--port`));
    } finally {
      blocker.close();
    }
  });
});
