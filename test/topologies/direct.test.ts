import * as fs from "node:fs";
import { ChainVerifier, LabPki, commonName } from "../../simulator/pki";
import { certificatesFromPem } from "../../core/pem";
import { MockUms, StartedMockUms, ImiClient, appPackage, WEB_APP_MARKER } from "../../simulator/ums";
import { DeviceFleet, StartedDeviceFleet, BrowserClient, isWebAppPage, FakeDevice } from "../../simulator/device";
import { CLOSE } from "../../simulator/protocol/messages";
import { WebSocket, ClientOptions } from "ws";
import { testLabPki } from "../helpers/lab-pki";
import { until } from "../helpers/until";

/**
 * The `direct` topology end to end (design section 2, first column): devices talk to the mock UMS
 * on its own port, no forwarding, identity from the TLS peer certificate.
 */

const FAST = { bootMs: 50, backoff: { initialMs: 20, maxMs: 200 }, handshakeTimeoutMs: 5000 } as const;

let pki: LabPki;
let ums: StartedMockUms;
let imi: ImiClient;

beforeAll(async () => {
  pki = await testLabPki();
  // Heartbeats every second: quick enough to see, and a 3 s silence limit that a busy CI box's
  // stalls do not reach (a dropped session would add deliveries and spoil exact counts below).
  ums = await new MockUms({ pki, port: 0, heartbeatMs: 1000, appSizeBytes: 64 * 1024 }).start();
  imi = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });
});

afterAll(async () => {
  await ums?.stop();
});

function fleetOf(options: Partial<ConstructorParameters<typeof DeviceFleet>[0]>): DeviceFleet {
  return new DeviceFleet({ pki, clusterUrl: ums.url, ...FAST, ...options });
}

test("the health check /info answers 200 and serverstatus needs no login", async () => {
  const info = await imi.request("GET", "/info");
  expect(info.status).toBe(200);
  expect(JSON.parse(info.text)).toMatchObject({ status: "ok" });
  await expect(imi.serverStatus()).resolves.toMatchObject({ status: "ok", server: `${pki.fqdn}:${ums.port}` });
});

describe("three devices onboard and are managed", () => {
  let fleet: StartedDeviceFleet;
  let devices: readonly FakeDevice[];
  let ids: string[];

  beforeAll(async () => {
    const keys = await imi.mintEnrollmentKeys(3);
    fleet = await fleetOf({ count: 3, enrollmentKeys: keys, keyPoolSize: 2 }).start();
    await fleet.waitForOnline(3, 20_000);
    devices = fleet.devices;
    ids = devices.map((d) => d.deviceId!);
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  test("each device got its own certificate from the device CA, and the UMS lists it online", async () => {
    const verifier = new ChainVerifier(fs.readFileSync(pki.clientCaChain, "utf8"));
    const serials = new Set<string>();
    for (const d of devices) {
      const chain = certificatesFromPem(d.certificateChainPem!);
      expect(verifier.verify(chain)).toMatchObject({ ok: true });
      expect(commonName(chain[0])).toBe(d.unitId);
      expect(chain[0].publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      serials.add(chain[0].serialNumber);
    }
    // keyPoolSize 2 < 3 devices: keys are shared round-robin, certificates are not.
    expect(serials.size).toBe(3);
    const listed = await imi.thinclients();
    for (const d of devices) {
      expect(d.unitId).toMatch(/^00E0C5[0-9A-F]{6}$/);
      expect(listed).toContainEqual(expect.objectContaining({ id: d.deviceId, unitID: d.unitId, mac: d.mac, online: true, firmwareVersion: expect.stringMatching(/^12\./) }));
    }
    expect(fleet.stats().onboardingMs.count).toBe(3);
  });

  test("devices heartbeat and the UMS acknowledges", async () => {
    await fleet.waitFor(() => devices.every((d) => d.stats.heartbeatsAcked >= 2), 10_000, "two heartbeats acknowledged each");
  });

  test("settings2tc reaches the device, which applies the settings and reports success", async () => {
    const [exec] = await imi.command("settings2tc", [ids[1]], { "sessions.browser.startpage": "https://intranet.example", "userinterface.display.dpi": 96 });
    expect(exec).toMatchObject({ id: ids[1], command: "settings2tc", mac: devices[1].mac });
    const done = await imi.waitForCommand(exec.exec_id);
    expect(done).toMatchObject({ state: "SUCCESS", deliveries: 1, message: expect.stringContaining("applied 2 setting(s)") });
    expect(devices[1].settings).toEqual({ "sessions.browser.startpage": "https://intranet.example", "userinterface.display.dpi": 96 });
    expect((await imi.thinclient(ids[1])).settings).toEqual(devices[1].settings);
  });

  test("reboot: the device acknowledges, reports, disconnects and comes back online", async () => {
    const sessionsBefore = devices[0].stats.sessions;
    const [exec] = await imi.command("reboot", [ids[0]]);
    expect(await imi.waitForCommand(exec.exec_id)).toMatchObject({ state: "SUCCESS", message: "rebooting" });
    await fleet.waitFor(() => devices[0].stats.reboots === 1 && devices[0].state === "online" && devices[0].stats.sessions === sessionsBefore + 1, 10_000, "device 0 back after reboot");
    await ums.waitForLog((e) => e.event === "device-connected" && e.unitId === devices[0].unitId && e.connection === 2);
    expect(devices[0].stats.commandsExecuted).toBe(1);
  });

  test("the update proxy serves an app whose digest the device checks", async () => {
    const outcome = await devices[2].downloadApp("chromium", "120.0.6099");
    expect(outcome).toEqual({ ok: true, bytes: 64 * 1024, sha256: appPackage("chromium", "120.0.6099", 64 * 1024).sha256, ms: expect.any(Number) });
  });

  test("a command for a device that is off waits in the queue and is delivered once it is back", async () => {
    const [off] = await imi.command("shutdown", [ids[2]]);
    expect(await imi.waitForCommand(off.exec_id)).toMatchObject({ state: "SUCCESS" });
    await devices[2].waitForState("off", 5000);
    await until(async () => (await ums.listDevices()).find((t) => t.id === ids[2])?.online === false, "UMS sees device 2 offline", 5000);

    const [queued] = await imi.command("settings2tc", [ids[2]], { "system.time.ntp": "pool.ntp.org" });
    expect(queued.state).toBe("QUEUED");
    expect((await imi.commandState(queued.exec_id)).state).toBe("QUEUED");

    devices[2].start();
    expect(await imi.waitForCommand(queued.exec_id, 10_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
    expect(devices[2].settings).toEqual({ "system.time.ntp": "pool.ntp.org" });
  });

  test("IMI lists every command with its state", async () => {
    const answer = await imi.request("GET", "/umsapi/v3/commands", undefined, { authorization: `Basic ${Buffer.from("admin:ums-edge-lab").toString("base64")}` });
    const list = JSON.parse(answer.text).CommandExecList as Array<{ state: string }>;
    // settings2tc, reboot, shutdown, settings2tc
    expect(list.length).toBeGreaterThanOrEqual(4);
    expect(list.every((c) => c.state === "SUCCESS")).toBe(true);
  });
});

test("commands survive a connection drop and are executed exactly once", async () => {
  const keys = await imi.mintEnrollmentKeys(2);
  // Device A drops before acknowledging; device B executes, then drops before its ack leaves.
  const a = await fleetOf({ count: 1, enrollmentKeys: [keys[0]], faults: { dropBeforeAck: 1 } }).start();
  const b = await fleetOf({ count: 1, enrollmentKeys: [keys[1]], faults: { dropAfterExecute: 1 } }).start();
  try {
    await a.waitForOnline(1, 10_000);
    await b.waitForOnline(1, 10_000);
    const [da] = a.devices;
    const [db] = b.devices;
    const [ea, eb] = await imi.command("settings2tc", [da.deviceId!, db.deviceId!], { "x.y": 1 });

    const resultA = await imi.waitForCommand(ea.exec_id, 10_000);
    const resultB = await imi.waitForCommand(eb.exec_id, 10_000);
    expect(resultA).toMatchObject({ state: "SUCCESS", deliveries: 2 });
    expect(resultB).toMatchObject({ state: "SUCCESS", deliveries: 2 });
    expect(da.stats).toMatchObject({ commandsExecuted: 1, duplicateDeliveries: 0 });
    // B saw the command twice and executed it once.
    expect(db.stats).toMatchObject({ commandsExecuted: 1, duplicateDeliveries: 1 });
    expect(da.stats.sessions).toBe(2);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test("a second connection of the same device replaces the first with close code 'replaced'", async () => {
  const first = await fleetOf({ identities: [{ kind: "good" }] }).start();
  try {
    await first.waitForOnline(1, 10_000);
    const second = await fleetOf({ identities: [{ kind: "good" }] }).start();
    try {
      await second.waitForOnline(1, 10_000);
      await first.devices[0].waitForState("replaced", 5000);
      expect(first.devices[0].lastRefusal).toMatchObject({ kind: "close", closeCode: CLOSE.replaced });
      expect((await ums.listDevices()).filter((t) => t.unitID === "lab-device-good")).toHaveLength(1);
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
  }
});

describe("lab certificates on the management path (the UMS checks chain, validity and revocation only)", () => {
  test.each([
    ["self-signed", "certificate-untrusted", /'lab-device-self-signed'/],
    ["other-ca", "certificate-untrusted", /no trusted CA issued/],
    ["expired", "certificate-expired", /expired at/],
    ["not-yet-valid", "certificate-not-yet-valid", /not valid before/],
    ["revoked", "certificate-revoked", /listed in the CRL/],
  ] as const)("%s: refused by the UMS with HTTP 401 %s", async (kind, error, detail) => {
    const fleet = await fleetOf({ identities: [{ kind }] }).start();
    try {
      await fleet.waitForSettled(10_000);
      const device = fleet.devices[0];
      expect(device.state).toBe("failed");
      expect(device.lastRefusal).toMatchObject({ stage: "connect", kind: "http", status: 401, error, by: "ums", reason: expect.stringMatching(detail) });
      const logged = await ums.waitForLog((e) => e.event === "refused" && e.reason === device.lastRefusal!.reason);
      expect(logged).toMatchObject({ status: 401, error, path: "/device-connector/v1/ws", remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), unitId: `lab-device-${kind}` });
    } finally {
      await fleet.stop();
    }
  });

  // An ALB in verify mode refuses these three (depth > 4, X.509 v1, RSA-1024); the UMS itself does
  // not, so in the direct topology they are managed. The report shows the difference.
  test.each(["good", "too-deep", "x509-v1", "rsa-1024"] as const)("%s: accepted by the UMS in the direct topology", async (kind) => {
    const fleet = await fleetOf({ identities: [{ kind }] }).start();
    try {
      await fleet.waitForOnline(1, 10_000);
      const device = fleet.devices[0];
      expect(device.unitId).toBe(`lab-device-${kind}`);
      expect((await ums.listDevices())).toContainEqual(expect.objectContaining({ unitID: device.unitId, online: true }));
    } finally {
      await fleet.stop();
    }
  });
});

test("a device without a client certificate is refused on the management path and the update proxy", async () => {
  const ca = fs.readFileSync(ums.webRootCertPath, "utf8");
  const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    // `servername` goes through to tls.connect; ws's typings do not list it.
    const ws = new WebSocket(ums.wsUrl, { ca, servername: ums.fqdn } as ClientOptions);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => reject(new Error("opened without a certificate")));
    ws.on("error", () => undefined);
  });
  expect(status.status).toBe(401);
  expect(JSON.parse(status.body)).toEqual({ error: "no-client-certificate", reason: expect.stringContaining("no client certificate in the TLS handshake"), by: "ums" });

  const download = await imi.request("GET", "/ums-appproxy/v1/apps/chromium/120.0");
  expect(download.status).toBe(401);
  expect(JSON.parse(download.text)).toMatchObject({ error: "no-client-certificate", by: "ums" });
});

test("onboarding a second device with a used enrollment key is refused with the reason", async () => {
  const [key] = await imi.mintEnrollmentKeys(1);
  const first = await fleetOf({ count: 1, enrollmentKeys: [key] }).start();
  try {
    await first.waitForOnline(1, 10_000);
    const second = await fleetOf({ count: 1, enrollmentKeys: [key] }).start();
    try {
      await second.waitForSettled(10_000);
      expect(second.devices[0].state).toBe("failed");
      expect(second.devices[0].lastRefusal).toMatchObject({ stage: "onboard", kind: "http", status: 403, error: "enrollment-key-used", by: "ums", reason: expect.stringContaining("a key works once") });
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
  }
});

test("the web app answers a browser without a client certificate", async () => {
  const browser = new BrowserClient({ baseUrl: ums.url, trustedCaFile: ums.webRootCertPath, serverName: ums.fqdn });
  const pages = await browser.loadWebApp();
  expect(pages.map((p) => p.path)).toEqual(["/wums-app/", "/webapp/"]);
  for (const page of pages) {
    expect(isWebAppPage(page)).toBe(true);
    expect(page.ok && page.body).toContain(WEB_APP_MARKER);
  }
});
