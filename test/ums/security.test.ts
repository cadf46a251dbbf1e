import * as fs from "node:fs";
import * as tls from "node:tls";
import { KeyPool, LabPki } from "../../simulator/pki";
import { MockUms, StartedMockUms, ImiClient } from "../../simulator/ums";
import { onboard } from "../../simulator/device/onboarding-client";
import { servletPath } from "../../simulator/common/servlet-path";
import { traversalTargets } from "../../simulator/scenarios/traversal-shapes";
import { WebSocket, ClientOptions } from "ws";
import { testLabPki } from "../helpers/lab-pki";

/**
 * The holes issue 14 found, closed at the UMS: paths read as a servlet container reads them (so
 * the simulation shows what a real server would serve), one enrollment key cannot take over an
 * existing device, the IMI API locks out password guessing and ends sessions, and a client that
 * aborts its body is not an internal error nor logged as `undefined:undefined`.
 */

let pki: LabPki;
let ums: StartedMockUms;
let imi: ImiClient;
let pool: KeyPool;

beforeAll(async () => {
  pki = await testLabPki();
  ums = await new MockUms({ pki, port: 0, heartbeatMs: 500, adminLockout: { failures: 5, firstLockMs: 1500, maxLockMs: 10_000 } }).start();
  imi = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });
  pool = new KeyPool(pki.keyPool);
  await pool.ensure(3);
});

afterAll(async () => {
  await ums?.stop();
});

describe("paths as a servlet container reads them", () => {
  test.each([
    ["/device-connector/../umsapi/x", "/umsapi/x"],
    ["/device-connector/%2e%2e/umsapi/x", "/umsapi/x"],
    ["/device-connector/.%2E/umsapi/x", "/umsapi/x"],
    ["/device-connector/..;jsessionid=1/umsapi/x", "/umsapi/x"],
    ["/device-connector/..\\umsapi/x", "/umsapi/x"],
    ["/device-connector/..%2fumsapi/x", "/umsapi/x"],
    ["//device-connector///v1//ws", "/device-connector/v1/ws"],
    ["/a;x=1/b;y/c?q=1", "/a/b/c"],
    ["/%75msapi/v3/", "/umsapi/v3/"],
    ["/device-connector/%252e%252e/umsapi", "/device-connector/%2e%2e/umsapi"],
    ["https://host:8443/info", "/info"],
  ])("%s is %s", (target, path) => {
    expect(servletPath(target)).toEqual({ ok: true, path });
  });

  test.each([["/../umsapi"], ["/a/%zz"], ["/a/%00"], ["relative"]])("%s is refused", (target) => {
    expect(servletPath(target).ok).toBe(false);
  });

  test("every traversal shape of the scenario reaches the IMI server status at the UMS itself", async () => {
    for (const target of traversalTargets()) {
      const a = await imi.request("GET", target);
      expect([target, a.status, a.text.includes("rmGuiServerVersion")]).toEqual([target, 200, true]);
    }
  });
});

describe("one enrollment key cannot take over an existing device", () => {
  const trust = () => ({ caPem: fs.readFileSync(ums.webRootCertPath, "utf8"), serverName: ums.fqdn });
  const attempt = async (unitId: string, key: string, keyIndex: number) =>
    onboard({ enrollmentUrl: ums.url, trust: trust(), enrollmentKey: key, keyPair: pool.key(keyIndex, 3), unitId, mac: "00E0C5000001", firmware: "12.7.1" });

  test("a known unit id is refused (409) and keeps its record and session; after the administrator's permission it re-enrolls once, and the old certificate is revoked", async () => {
    const [k1, k2, k3, k4] = await imi.mintEnrollmentKeys(4);
    const first = await attempt("VICTIM-1", k1, 0);
    expect(first.ok).toBe(true);
    const oldCert = first.ok ? first.response.certificate : "";
    // The real device's management session, with the certificate it was given.
    const ws = new WebSocket(ums.wsUrl, { ca: fs.readFileSync(ums.webRootCertPath), servername: ums.fqdn, key: pool.key(0, 3).privateKeyPem, cert: oldCert + (first.ok ? first.response.chain : "") } as ClientOptions);
    await new Promise((r, j) => ws.once("open", r).once("error", j));
    ws.send(JSON.stringify({ type: "hello", unitId: "VICTIM-1", mac: "00E0C5000001", firmware: "12.7.1" }));
    await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === "VICTIM-1");

    const takeover = await attempt("VICTIM-1", k2, 1);
    expect(takeover.ok).toBe(false);
    expect(!takeover.ok && [takeover.refusal.status, takeover.refusal.error, takeover.refusal.by]).toEqual([409, "device-exists", "ums"]);
    const device = (await imi.thinclients()).find((t) => t.unitID === "VICTIM-1")!;
    expect([device.mac, device.online]).toEqual(["00E0C5000001", true]);
    // The refused attempt did not burn the key.
    expect((await attempt("OTHER-1", k2, 1)).ok).toBe(true);

    await imi.allowReenrollment(device.id);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    const again = await attempt("VICTIM-1", k3, 2);
    expect(again.ok).toBe(true);
    expect(await closed).toBe(4401); // the old certificate's session ends
    // The old certificate is revoked: a new session with it is refused.
    const stale = new WebSocket(ums.wsUrl, { ca: fs.readFileSync(ums.webRootCertPath), servername: ums.fqdn, key: pool.key(0, 3).privateKeyPem, cert: oldCert } as ClientOptions);
    const refusal = await new Promise<number>((r) => stale.once("unexpected-response", (_q, res) => r(res.statusCode ?? 0)).once("open", () => r(101)));
    expect(refusal).toBe(401);
    // The permission was for one re-enrollment only.
    const onceMore = await attempt("VICTIM-1", k4, 1);
    expect(!onceMore.ok && onceMore.refusal.status).toBe(409);
  });
});

describe("the IMI API: lockout with back-off, logout", () => {
  const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

  test("five wrong passwords lock the account: even the right one is refused (429 with Retry-After) until the lock ends, and the lock doubles", async () => {
    const login = (password: string) => imi.request("POST", "/umsapi/v3/login", undefined, { authorization: basic(password) });
    for (let i = 0; i < 5; i++) expect((await login("wrong")).status).toBe(401);
    const locked = await login("ums-edge-lab");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // Basic auth on any IMI call is locked out as well.
    expect((await imi.request("GET", "/umsapi/v3/thinclients", undefined, { authorization: basic("ums-edge-lab") })).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1600));
    for (let i = 0; i < 5; i++) await login("wrong");
    await new Promise((r) => setTimeout(r, 1600)); // the first lock's length: the second is twice as long
    expect((await login("ums-edge-lab")).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await login("ums-edge-lab")).status).toBe(200);
  });

  test("logout ends the session: its cookie no longer works", async () => {
    const own = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });
    const login = await own.request("POST", "/umsapi/v3/login", undefined, { authorization: basic("ums-edge-lab") });
    const cookie = (JSON.parse(login.text) as { message: string }).message;
    expect((await own.request("GET", "/umsapi/v3/thinclients", undefined, { cookie })).status).toBe(200);
    expect((await own.request("POST", "/umsapi/v3/logout", undefined, { cookie })).status).toBe(200);
    expect((await own.request("GET", "/umsapi/v3/thinclients", undefined, { cookie })).status).toBe(401);
    expect((await own.request("POST", "/umsapi/v3/logout", undefined, { cookie })).status).toBe(401);
  });
});

describe("clients that go away", () => {
  test("a body aborted half way is logged as the client's doing, with its address; no internal error, no 500 attempt", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: ums.port, ca: fs.readFileSync(ums.webRootCertPath), servername: ums.fqdn });
    await new Promise((r) => socket.once("secureConnect", r));
    socket.write("POST /device-connector/v1/onboard HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"enrollmentKey\":");
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const entry = await ums.waitForLog((e) => e.event === "client-aborted");
    expect(entry.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    await new Promise((r) => setTimeout(r, 100));
    expect(ums.logs.filter((e) => e.event === "internal-error")).toEqual([]);
    expect(JSON.stringify(ums.logs)).not.toContain("undefined:undefined");
  });
});
