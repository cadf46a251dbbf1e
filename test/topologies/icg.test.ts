import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LabPki, LabDeviceKind, KeyPool } from "../../simulator/pki";
import { MockUms, StartedMockUms, ImiClient } from "../../simulator/ums";
import { Icg, StartedIcg } from "../../simulator/icg";
import { DeviceFleet, StartedDeviceFleet, FakeDevice, onboard, DEFAULT_APP_PORTAL_URL } from "../../simulator/device";
import { encodeUrlAws } from "../../simulator/protocol/forwarded-cert";
import { ICG_STATUS_REASON_HEADER } from "../../simulator/protocol/icg-tunnel";
import { testLabPki } from "../helpers/lab-pki";
import { openWs, hello, closed, request, RawTls } from "../icg/support/clients";
import { until } from "../helpers/until";

/**
 * The `icg` topology end to end (design section 2, icg column): devices know only the ICG's
 * address; the UMS connects out to the ICG and serves what it relays; nothing connects in to the
 * UMS for devices. The ICG checks device certificates itself with the device CA and CRL it learnt
 * from the UMS, and does not offer the update proxy.
 */

const FAST = { bootMs: 50, backoff: { initialMs: 20, maxMs: 200 }, handshakeTimeoutMs: 5000 } as const;
const UMS_BACKOFF = { initialMs: 50, maxMs: 400 } as const;

let pki: LabPki;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  pki = await testLabPki();
});

afterAll(async () => {
  for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
});

async function startIcg(options: Partial<ConstructorParameters<typeof Icg>[0]> = {}): Promise<StartedIcg> {
  const icg = await new Icg({ pki, port: 0, ...options }).start();
  cleanup.push(() => icg.stop());
  return icg;
}

async function startUms(icg: StartedIcg | string): Promise<{ ums: StartedMockUms; imi: ImiClient }> {
  const ums = await new MockUms({ pki, port: 0, heartbeatMs: 1000, icg: { url: typeof icg === "string" ? icg : icg.url, backoff: UMS_BACKOFF } }).start();
  cleanup.push(() => ums.stop());
  return { ums, imi: new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn }) };
}

const deviceTls = (kind?: LabDeviceKind, headers?: Record<string, string>): RawTls => ({
  ca: fs.readFileSync(pki.web.rootCert, "utf8"),
  servername: pki.fqdn,
  cert: kind ? fs.readFileSync(pki.devices[kind].chain, "utf8") : undefined,
  key: kind ? fs.readFileSync(pki.devices[kind].key, "utf8") : undefined,
  headers,
});

test("/usg/check-status answers warn while no UMS is connected and ok once one is", async () => {
  const icg = await startIcg();
  const before = await request(icg.statusUrl, deviceTls());
  expect(before.status).toBe(200);
  expect(before.json).toEqual({ status: "warn" });
  expect(before.headers[ICG_STATUS_REASON_HEADER]).toContain("no UMS connected");

  const { ums } = await startUms(icg);
  expect(ums.icgConnected).toBe(true);
  const after = await request(icg.statusUrl, deviceTls());
  expect(after.status).toBe(200);
  expect(after.json).toEqual({ status: "ok" });
  expect(icg.logs).toContainEqual(expect.objectContaining({ event: "ums-registered", ums: `ums-server.${pki.fqdn}`, deviceCas: ["UMS Lab Device CA", "UMS Lab Device Root CA"], crl: true }));

  await ums.stop();
  await icg.waitForLog((e) => e.event === "ums-disconnected");
  expect((await request(icg.statusUrl, deviceTls())).json).toEqual({ status: "warn" });
});

describe("devices pointed at the ICG only", () => {
  let icg: StartedIcg;
  let ums: StartedMockUms;
  let imi: ImiClient;

  beforeAll(async () => {
    icg = await startIcg();
    ({ ums, imi } = await startUms(icg));
  });

  function fleetOf(options: Partial<ConstructorParameters<typeof DeviceFleet>[0]>): DeviceFleet {
    // clusterUrl is the ICG's, and so is the enrollment address (it defaults to clusterUrl).
    return new DeviceFleet({ pki, clusterUrl: icg.url, ...FAST, ...options });
  }

  describe("three devices onboard and are managed through the ICG", () => {
    let fleet: StartedDeviceFleet;
    let devices: readonly FakeDevice[];
    let ids: string[];

    beforeAll(async () => {
      fleet = await fleetOf({ count: 3, enrollmentKeys: await imi.mintEnrollmentKeys(3), keyPoolSize: 2 }).start();
      await fleet.waitForOnline(3, 20_000);
      devices = fleet.devices;
      ids = devices.map((d) => d.deviceId!);
    });

    afterAll(async () => {
      await fleet?.stop();
    });

    test("onboarding and sessions were relayed: the UMS saw every device arrive through the ICG", async () => {
      expect(icg.logs.filter((e) => e.event === "onboarding-relayed" && e.status === 200)).toHaveLength(3);
      for (const d of devices) {
        expect(icg.logs).toContainEqual(expect.objectContaining({ event: "device-relayed", unitId: d.unitId, source: "tls-peer" }));
        const connected = await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === d.unitId);
        expect(connected.remote).toMatch(/ via ICG$/);
      }
      const listed = await imi.thinclients();
      for (const d of devices) expect(listed).toContainEqual(expect.objectContaining({ id: d.deviceId, unitID: d.unitId, online: true }));
      expect(icg.relayedSessions).toBe(3);
      expect(fleet.stats().onboardingMs.count).toBe(3);
    });

    test("settings2tc reaches the device through the ICG, and its result comes back", async () => {
      const [exec] = await imi.command("settings2tc", [ids[1]], { "sessions.browser.startpage": "https://intranet.example" });
      expect(await imi.waitForCommand(exec.exec_id)).toMatchObject({ state: "SUCCESS", deliveries: 1, message: expect.stringContaining("applied 1 setting(s)") });
      expect(devices[1].settings).toEqual({ "sessions.browser.startpage": "https://intranet.example" });
      expect((await imi.thinclient(ids[1])).settings).toEqual(devices[1].settings);
    });

    test("reboot: the device reports, disconnects and comes back through the ICG", async () => {
      const sessionsBefore = devices[0].stats.sessions;
      const [exec] = await imi.command("reboot", [ids[0]]);
      expect(await imi.waitForCommand(exec.exec_id)).toMatchObject({ state: "SUCCESS", message: "rebooting" });
      await fleet.waitFor(() => devices[0].stats.reboots === 1 && devices[0].state === "online" && devices[0].stats.sessions === sessionsBefore + 1, 10_000, "device 0 back after reboot");
      await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === devices[0].unitId && e.connection === 2);
      expect(devices[0].stats.commandsExecuted).toBe(1);
    });

    test("a command for a device that is off waits at the UMS and is delivered once it is back", async () => {
      const [off] = await imi.command("shutdown", [ids[2]]);
      expect(await imi.waitForCommand(off.exec_id)).toMatchObject({ state: "SUCCESS" });
      await devices[2].waitForState("off", 5000);
      await until(async () => (await ums.listDevices()).find((t) => t.id === ids[2])?.online === false, "UMS sees device 2 offline", 5000);
      const [queued] = await imi.command("settings2tc", [ids[2]], { "system.time.ntp": "pool.ntp.org" });
      expect(queued.state).toBe("QUEUED");
      devices[2].start();
      expect(await imi.waitForCommand(queued.exec_id, 10_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
      expect(devices[2].settings).toEqual({ "system.time.ntp": "pool.ntp.org" });
    });

    test("app download: the ICG refuses the update proxy and the device reports the App Portal fallback as unreachable", async () => {
      const outcome = await devices[1].downloadApp("chromium", "120.0.6099");
      expect(outcome).toMatchObject({
        source: "app-portal",
        ok: false,
        reason: expect.stringMatching(/update proxy is not available .* said the icg\); the App Portal at https:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/),
        proxyRefusal: { stage: "download", kind: "http", status: 501, error: "update-proxy-unavailable", by: "icg", reason: expect.stringContaining("App Portal") },
        refusal: { stage: "download", kind: "network", error: "ECONNREFUSED" },
      });
      expect(DEFAULT_APP_PORTAL_URL).toBe("https://127.0.0.1:1");
      expect(icg.logs).toContainEqual(expect.objectContaining({ event: "refused", status: 501, error: "update-proxy-unavailable", by: "icg", path: "/ums-appproxy/v1/apps/chromium/120.0.6099" }));
      expect(ums.logs.some((e) => e.event === "app-served")).toBe(false);
    });
  });

  test("onboarding through the ICG tells the device the ICG as its cluster address", async () => {
    const pool = new KeyPool(pki.keyPool);
    await pool.ensure(1);
    const [key] = await imi.mintEnrollmentKeys(1);
    const outcome = await onboard({
      enrollmentUrl: icg.url,
      trust: { caPem: fs.readFileSync(pki.web.rootCert, "utf8"), serverName: pki.fqdn },
      enrollmentKey: key,
      keyPair: pool.key(0, 1),
      unitId: "00E0C5FEED01",
      mac: "00E0C5FEED01",
      firmware: "12.7.1",
    });
    expect(outcome).toMatchObject({ ok: true, response: { unitId: "00E0C5FEED01", clusterAddress: icg.url } });
  });

  test("a used enrollment key is refused by the UMS behind the ICG, and the reason reaches the device", async () => {
    const [key] = await imi.mintEnrollmentKeys(1);
    const first = await fleetOf({ count: 1, enrollmentKeys: [key] }).start();
    try {
      await first.waitForOnline(1, 10_000);
      const second = await fleetOf({ count: 1, enrollmentKeys: [key] }).start();
      try {
        await second.waitForSettled(10_000);
        expect(second.devices[0].lastRefusal).toMatchObject({ stage: "onboard", kind: "http", status: 403, error: "enrollment-key-used", by: "ums" });
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  });

  describe("device certificates are checked by the ICG itself", () => {
    test.each([
      ["self-signed", "certificate-untrusted", /self-signed/],
      ["other-ca", "certificate-untrusted", /no trusted CA issued/],
      ["expired", "certificate-expired", /expired at/],
      ["not-yet-valid", "certificate-not-yet-valid", /not valid before/],
      ["revoked", "certificate-revoked", /listed in the CRL/],
    ] as const)("%s: refused by the ICG with HTTP 401 %s, and the UMS never sees it", async (kind, error, detail) => {
      const fleet = await fleetOf({ identities: [{ kind }] }).start();
      try {
        await fleet.waitForSettled(10_000);
        const device = fleet.devices[0];
        expect(device.state).toBe("failed");
        expect(device.lastRefusal).toMatchObject({ stage: "connect", kind: "http", status: 401, error, by: "icg", reason: expect.stringMatching(detail) });
        expect(device.lastRefusal!.reason).toMatch(/^TLS peer certificate refused by the ICG/);
        const logged = await icg.waitForLog((e) => e.event === "refused" && e.reason === device.lastRefusal!.reason);
        expect(logged).toMatchObject({ status: 401, error, by: "icg", path: "/device-connector/v1/ws", unitId: `lab-device-${kind}` });
        expect(ums.logs.some((e) => e.unitId === `lab-device-${kind}`)).toBe(false);
      } finally {
        await fleet.stop();
      }
    });

    // The ICG makes the UMS's checks (chain, validity, revocation), not an ALB's extra limits.
    test.each(["too-deep", "x509-v1", "rsa-1024"] as const)("%s: accepted, as the UMS itself would", async (kind) => {
      const fleet = await fleetOf({ identities: [{ kind }] }).start();
      try {
        await fleet.waitForOnline(1, 10_000);
        expect((await ums.listDevices())).toContainEqual(expect.objectContaining({ unitID: `lab-device-${kind}`, online: true }));
      } finally {
        await fleet.stop();
      }
    });

    test("no client certificate on the management path: refused by the ICG", async () => {
      const result = await openWs(icg.wsUrl, deviceTls());
      expect(result).toEqual({
        kind: "refused",
        status: 401,
        body: { error: "no-client-certificate", reason: expect.stringContaining("no client certificate in the TLS handshake (client-cert forwarding is off in application.yml, so the ICG reads"), by: "icg" },
      });
    });
  });

  test.each([
    ["GET", "/umsapi/v3/thinclients", 404, "no-route"],
    ["GET", "/wums-app/", 404, "no-route"],
    ["GET", "/info", 404, "no-route"],
    ["GET", "/device-connector/v1/onboard", 405, "method-not-allowed"],
    ["GET", "/device-connector/v1/ws", 426, "upgrade-required"],
  ])("%s %s from the device side: %i %s by the ICG (the UMS's API and web app are unreachable)", async (method, route, status, error) => {
    const answer = await request(icg.url + route, deviceTls("good"), { method });
    expect(answer.status).toBe(status);
    expect(answer.json).toMatchObject({ error, by: "icg", reason: expect.any(String) });
  });
});

test("ICG restart: the UMS and the devices reconnect by themselves, and commands queued meanwhile are delivered exactly once", async () => {
  const first = await startIcg();
  const port = first.port;
  const { ums, imi } = await startUms(first);
  const fleet = await new DeviceFleet({ pki, clusterUrl: first.url, count: 2, enrollmentKeys: await imi.mintEnrollmentKeys(2), ...FAST }).start();
  cleanup.push(() => fleet.stop());
  await fleet.waitForOnline(2, 10_000);
  const ids = fleet.devices.map((d) => d.deviceId!);

  await first.stop();
  await fleet.waitFor(() => ums.onlineCount === 0 && !ums.icgConnected, 10_000, "the UMS sees the ICG and its devices gone");
  const queued = [...(await imi.command("settings2tc", ids, { "after.icg.restart": true })), ...(await imi.command("reboot", [ids[1]]))];
  expect(queued.map((c) => c.state)).toEqual(["QUEUED", "QUEUED", "QUEUED"]);

  const second = await startIcg({ port });
  await fleet.waitFor(() => ums.icgConnected, 10_000, "the UMS reconnected to the ICG");
  for (const c of queued) expect(await imi.waitForCommand(c.exec_id, 15_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
  await fleet.waitForOnline(2, 10_000);
  for (const d of fleet.devices) {
    expect(d.settings).toEqual({ "after.icg.restart": true });
    expect(d.stats.duplicateDeliveries).toBe(0);
    expect(d.stats.reconnects).toBeGreaterThan(0);
  }
  expect(fleet.devices[0].stats.commandsExecuted).toBe(1);
  expect(fleet.devices[1].stats.commandsExecuted).toBe(2);
  expect(fleet.devices[1].stats.reboots).toBe(1);
  expect(ums.logs.filter((e) => e.event === "icg-connected")).toHaveLength(2);
  expect(ums.logs).toContainEqual(expect.objectContaining({ event: "icg-disconnected", closeCode: 1001, reason: "the ICG is stopping", retryInMs: expect.any(Number) }));
  expect(second.logs).toContainEqual(expect.objectContaining({ event: "ums-registered" }));
});

describe("behind an ALB: the ICG reads the forwarded client certificate named in application.yml", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-icg-"));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ["verify", "X-Amzn-Mtls-Clientcert-Leaf", (kind: LabDeviceKind) => fs.readFileSync(pki.devices[kind].cert, "utf8")],
    ["passthrough", "X-Amzn-Mtls-Clientcert", (kind: LabDeviceKind) => fs.readFileSync(pki.devices[kind].chain, "utf8")],
  ] as const)("%s mode (%s)", async (mode, header, pem) => {
    const file = path.join(dir, `application-${mode}.yml`);
    fs.writeFileSync(file, `igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS\n    client-cert-forwarded-header: ${header}\n`);
    const icg = await startIcg({ appConfigFile: file });
    expect(icg.forwarding).toEqual({ enabled: true, header, encodingType: "URL_AWS" });
    const { ums } = await startUms(icg);

    // The target group health check.
    const health = await request(icg.statusUrl, deviceTls());
    expect([health.status, health.json]).toEqual([200, { status: "ok" }]);

    // The header alone identifies the device (the ALB's connection to the ICG carries no certificate).
    const opened = await openWs(icg.wsUrl, deviceTls(undefined, { [header]: encodeUrlAws(pem("good")) }));
    if (opened.kind !== "open") throw new Error(`refused: ${JSON.stringify(opened)}`);
    try {
      expect(await hello(opened.ws, "lab-device-good")).toMatchObject({ type: "welcome", unitId: "lab-device-good" });
      expect(icg.logs).toContainEqual(expect.objectContaining({ event: "device-relayed", unitId: "lab-device-good", source: "forwarded-header" }));
      await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === "lab-device-good");
    } finally {
      opened.ws.close();
      await closed(opened.ws);
    }

    // The TLS peer certificate is ignored while forwarding is on.
    expect(await openWs(icg.wsUrl, deviceTls("good"))).toEqual({
      kind: "refused",
      status: 401,
      body: { error: "no-client-certificate", reason: `no client certificate in header ${header} (forwarding enabled in application.yml); the request carried no certificate header`, by: "icg" },
    });
    // A revoked certificate in the header is refused by the ICG itself.
    expect(await openWs(icg.wsUrl, deviceTls(undefined, { [header]: encodeUrlAws(pem("revoked")) }))).toMatchObject({
      kind: "refused",
      status: 401,
      body: { error: "certificate-revoked", by: "icg", reason: expect.stringContaining(`certificate in header ${header} refused by the ICG (revoked)`) },
    });
  });
});
