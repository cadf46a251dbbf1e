import * as fs from "node:fs";
import * as net from "node:net";
import { WebSocket } from "ws";
import { LabPki } from "../../simulator/pki";
import { Icg, StartedIcg } from "../../simulator/icg";
import { MockUms, StartedMockUms } from "../../simulator/ums";
import { UserError } from "../../core/errors";
import { testLabPki } from "../helpers/lab-pki";
import { closed } from "./support/clients";
import { startFakeIcg, nextJson, FakeIcg } from "./support/fake-icg";
import { until } from "../helpers/until";

/**
 * The UMS's side of the icg topology (simulator/ums/icg-connector.ts): it connects out, checks the
 * ICG's certificate and name, refuses to start half-way on a setting that cannot work, keeps
 * trying an ICG that is not there yet, and serves relayed devices through its own handlers —
 * verifying every relayed chain again.
 */

let pki: LabPki;
const FAST = { backoff: { initialMs: 50, maxMs: 200 } } as const;

beforeAll(async () => {
  pki = await testLabPki();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => (s.destroy(), resolve(false)));
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}


describe("settings that cannot work fail the UMS's start before it listens", () => {
  let icg: StartedIcg;
  beforeAll(async () => {
    icg = await new Icg({ pki, port: 0 }).start();
  });
  afterAll(async () => {
    await icg?.stop();
  });

  test.each([
    ["the ICG certificate chains to a CA the UMS does not trust", "ca", /presented a certificate this UMS does not trust \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)/],
    ["the ICG certificate does not carry the expected name", "name", /presented a certificate this UMS does not trust \(ERR_TLS_CERT_ALTNAME_INVALID: .*gateway\.other\.test/],
  ] as const)("%s (%s): a UserError with the fix, and no listener", async (_what, wrong, message) => {
    const port = await freePort();
    const start = new MockUms({ pki, port, icg: { url: icg.url, ...(wrong === "ca" ? { trustedCaFile: pki.deviceCa.rootCert } : { serverName: "gateway.other.test" }) } }).start();
    await expect(start).rejects.toThrow(UserError);
    await expect(start).rejects.toThrow(message);
    await expect(start).rejects.toThrow(/\n  fix: the ICG certificate must chain to '.*' and carry the name '/);
    expect(await connectionRefused(port)).toBe(true);
    expect(icg.status).toBe("warn");
  });

  test("the ICG refuses a UMS presenting a device certificate: a UserError with the ICG's reason, and the ICG logs it", async () => {
    const start = new MockUms({ pki, port: 0, icg: { url: icg.url, clientCertificate: { chainFile: pki.devices.good.chain, keyFile: pki.devices.good.key } } }).start();
    await expect(start).rejects.toThrow(new RegExp(`refused this UMS's tunnel \\(HTTP 401 ums-certificate-untrusted by icg: the client certificate is not one the ICG accepts from a UMS`));
    await expect(start).rejects.toThrow(/\n  fix: the UMS client certificate '.*devices\/good\/chain\.pem' must be issued by the CA the ICG trusts/);
    expect(icg.logs).toContainEqual(expect.objectContaining({ event: "refused", error: "ums-certificate-untrusted", unitId: "lab-device-good", path: "/usg/v1/tunnel" }));
  });

  test.each([
    ["an http:// URL", { url: "http://127.0.0.1:8443" }, "icg: 'url' must be https:// or wss:// (got 'http://127.0.0.1:8443'): the tunnel is always TLS"],
    ["an unreadable CA file", { url: "https://127.0.0.1:8443", trustedCaFile: "/nonexistent/ca.pem" }, "icg: cannot read the CA file for the ICG certificate '/nonexistent/ca.pem' (ENOENT)"],
  ])("%s: a UserError", async (_what, link, message) => {
    await expect(new MockUms({ pki, port: 0, icg: link }).start()).rejects.toThrow(new UserError(message));
  });
});

test("an ICG that is not there yet: the UMS starts anyway, says so, and connects when the ICG comes up", async () => {
  const port = await freePort();
  const ums = await new MockUms({ pki, port: 0, icg: { url: `https://127.0.0.1:${port}`, ...FAST } }).start();
  let icg: StartedIcg | undefined;
  try {
    expect(ums.icgConnected).toBe(false);
    expect(ums.logs).toContainEqual(expect.objectContaining({ event: "icg-unreachable", level: "warn", reason: expect.stringContaining("ECONNREFUSED"), retryInMs: expect.any(Number) }));
    icg = await new Icg({ pki, port }).start();
    await until(() => ums.icgConnected, "UMS connected");
    expect(icg.status).toBe("ok");
  } finally {
    await ums.stop();
    await icg?.stop();
  }
});

test("an ICG whose certificate the UMS does not trust, met after the start: an error log with the reason and the fix, and the UMS keeps trying", async () => {
  const port = await freePort();
  const ums = await new MockUms({ pki, port: 0, icg: { url: `https://127.0.0.1:${port}`, ...FAST } }).start();
  // The web certificate: issued by the right CA, but named for the UMS, not the ICG.
  const impostor = await new Icg({ pki, port, certificate: { chainFile: pki.web.entireChain, keyFile: pki.web.privateKey } }).start();
  try {
    const logged = await ums.waitForLog((e) => e.event === "icg-certificate-untrusted");
    expect(logged).toMatchObject({ level: "error", reason: expect.stringContaining("ERR_TLS_CERT_ALTNAME_INVALID"), fix: expect.stringContaining(`carry the name 'icg.${pki.fqdn}'`), retryInMs: expect.any(Number) });
    expect(ums.icgConnected).toBe(false);
    expect(impostor.logs.some((e) => e.event === "ums-connected")).toBe(false);
  } finally {
    await ums.stop();
    await impostor.stop();
  }
});

describe("the UMS side of the tunnel, driven by hand", () => {
  let fake: FakeIcg;
  let ums: StartedMockUms;
  let tunnel: WebSocket;
  let register: Record<string, any>;

  const send = (m: Record<string, unknown>) => tunnel.send(JSON.stringify(m));
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const unb64 = (data: string) => Buffer.from(data, "base64").toString();

  async function accept(): Promise<void> {
    tunnel = await fake.nextTunnel();
    register = await nextJson(tunnel);
    send({ type: "registered", icgVersion: "test", serverName: `icg.${pki.fqdn}` });
  }

  beforeAll(async () => {
    fake = await startFakeIcg(pki);
    const starting = new MockUms({ pki, port: 0, heartbeatMs: 1000, icg: { url: fake.url, ...FAST } }).start();
    await accept();
    ums = await starting;
  });

  afterAll(async () => {
    await ums?.stop();
    await fake?.close();
  });

  test("'register' hands the ICG the device CA chain and the CRL", () => {
    expect(register).toEqual({
      type: "register",
      umsVersion: expect.any(String),
      fqdn: pki.fqdn,
      deviceCaChain: fs.readFileSync(pki.clientCaChain, "utf8"),
      crl: fs.readFileSync(pki.crl, "utf8"),
    });
    expect(ums.icgConnected).toBe(true);
  });

  test("a relayed onboarding request is answered by the UMS's own onboarding handler", async () => {
    send({ type: "http-request", id: "r1", method: "POST", path: "/device-connector/v1/onboard", headers: { "content-type": "application/json" }, body: b64("{}"), remote: "198.51.100.7:50000" });
    const answer = await nextJson(tunnel);
    expect(answer).toMatchObject({ type: "http-response", id: "r1", status: 400, headers: expect.objectContaining({ "content-type": "application/json" }) });
    expect(JSON.parse(unb64(answer.body))).toEqual({ error: "bad-onboard-request", reason: "'enrollmentKey' is missing or not a non-empty string", by: "ums" });
  });

  test("nothing but onboarding is served over the tunnel (the IMI API stays private)", async () => {
    send({ type: "http-request", id: "r2", method: "GET", path: "/umsapi/v3/thinclients", headers: {}, body: "", remote: "198.51.100.7:50001" });
    const answer = await nextJson(tunnel);
    expect(answer).toMatchObject({ type: "http-response", id: "r2", status: 404 });
    expect(JSON.parse(unb64(answer.body))).toMatchObject({ error: "not-relayed", by: "ums" });
  });

  test.each([
    ["an expired certificate", "expired", "lab-device-expired", 401, "certificate-expired", /^certificate relayed by the ICG refused \(expired\)/],
    ["a certificate for another unit than the ICG named", "good", "lab-device-other", 401, "unit-id-mismatch", /named unit 'lab-device-other' but the certificate is for 'lab-device-good'/],
  ] as const)("session-open with %s: the UMS's own check refuses it", async (_what, kind, unitId, status, error, reason) => {
    send({ type: "session-open", sid: `s-${kind}`, unitId, chain: fs.readFileSync(pki.devices[kind].chain, "utf8"), source: "tls-peer", remote: "198.51.100.7:50002" });
    expect(await nextJson(tunnel)).toEqual({ type: "session-refused", sid: `s-${kind}`, status, error, reason: expect.stringMatching(reason) });
  });

  test("session-open with a good chain: the same session as a direct device (hello → welcome, heartbeats, close)", async () => {
    send({ type: "session-open", sid: "s-good", unitId: "lab-device-good", chain: fs.readFileSync(pki.devices.good.chain, "utf8"), source: "tls-peer", remote: "198.51.100.7:50003" });
    expect(await nextJson(tunnel)).toEqual({ type: "session-accepted", sid: "s-good" });
    send({ type: "session-frame", sid: "s-good", data: b64(JSON.stringify({ type: "hello", unitId: "lab-device-good", mac: "00E0C5000001", firmware: "12.7.1" })) });
    const welcome = await nextJson(tunnel);
    expect(welcome).toMatchObject({ type: "session-frame", sid: "s-good" });
    expect(JSON.parse(unb64(welcome.data))).toMatchObject({ type: "welcome", unitId: "lab-device-good", heartbeatMs: 1000 });
    send({ type: "session-frame", sid: "s-good", data: b64(JSON.stringify({ type: "heartbeat", sentAt: 42 })) });
    expect(JSON.parse(unb64((await nextJson(tunnel)).data))).toEqual({ type: "heartbeat-ack", sentAt: 42 });
    expect(await ums.listDevices()).toContainEqual(expect.objectContaining({ unitID: "lab-device-good", online: true }));
    expect(await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === "lab-device-good")).toMatchObject({ remote: "198.51.100.7:50003 via ICG" });

    // A frame the session refuses closes the relayed socket with the session's own code.
    send({ type: "session-frame", sid: "s-good", data: b64("not json") });
    const errorFrame = await nextJson(tunnel);
    expect(JSON.parse(unb64(errorFrame.data))).toMatchObject({ type: "error" });
    expect(await nextJson(tunnel)).toEqual({ type: "session-close", sid: "s-good", code: 1003, reason: "message is not valid JSON" });
    await until(async () => (await ums.listDevices()).find((d) => d.unitID === "lab-device-good")?.online === false, "device offline");
  });

  test("a bad frame from the ICG: the UMS closes the tunnel with a close code, logs it, and reconnects", async () => {
    const done = closed(tunnel);
    tunnel.send("{not json");
    expect(await done).toEqual({ code: 1003, reason: "tunnel message is not valid JSON" });
    expect(ums.logs).toContainEqual(expect.objectContaining({ event: "icg-tunnel-message-refused", closeCode: 1003 }));
    await accept();
    expect(register.type).toBe("register");
    await until(() => ums.icgConnected, "reconnected");
    expect(ums.logs.filter((e) => e.event === "icg-connected")).toHaveLength(2);
  });
});
