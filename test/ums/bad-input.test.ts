import * as fs from "node:fs";
import * as tls from "node:tls";
import { SWALLOW_BYTES } from "../../simulator/common/http-io";
import { WebSocket, ClientOptions } from "ws";
import { createCsr, KeyPool, LabPki, publicKeyPemOf } from "../../simulator/pki";
import { MockUms, StartedMockUms, ImiClient } from "../../simulator/ums";
import { DeviceFleet, StartedDeviceFleet } from "../../simulator/device";
import { CLOSE, MAX_MESSAGE_BYTES } from "../../simulator/protocol/messages";
import { MAX_ONBOARD_BODY_BYTES } from "../../simulator/protocol/onboarding";
import { testLabPki } from "../helpers/lab-pki";

/**
 * Bad input of every kind gets a 4xx (or a WebSocket close code) with a reason; meanwhile the UMS
 * keeps serving a good device, and a command queued before all of it is delivered after it.
 */

let pki: LabPki;
let ums: StartedMockUms;
let imi: ImiClient;
let fleet: StartedDeviceFleet;
let queuedExecId: string;
const ADMIN = `Basic ${Buffer.from("admin:ums-edge-lab").toString("base64")}`;

beforeAll(async () => {
  pki = await testLabPki();
  ums = await new MockUms({ pki, port: 0, heartbeatMs: 300, helloTimeoutMs: 400 }).start();
  imi = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });
  fleet = await new DeviceFleet({ pki, clusterUrl: ums.url, count: 1, enrollmentKeys: await imi.mintEnrollmentKeys(1), bootMs: 50, backoff: { initialMs: 20, maxMs: 200 } }).start();
  await fleet.waitForOnline(1, 10_000);
  // Power the device off and queue a command for it: it must survive everything below.
  const [off] = await imi.command("shutdown", [fleet.devices[0].deviceId!]);
  await imi.waitForCommand(off.exec_id);
  await fleet.devices[0].waitForState("off");
  [{ exec_id: queuedExecId }] = await imi.command("settings2tc", [fleet.devices[0].deviceId!], { "after.bad.input": true });
});

afterAll(async () => {
  await fleet?.stop();
  await ums?.stop();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const answer = await imi.request("POST", path, body, headers);
  return { status: answer.status, body: answer.text ? JSON.parse(answer.text) : undefined, headers: answer.headers };
}

describe("onboarding", () => {
  const onboardBody = (over: Record<string, unknown>) => JSON.stringify({ enrollmentKey: "k", csr: "x", unitId: "00E0C5ABCDEF", mac: "00E0C5ABCDEF", firmware: "12.7.1", ...over });
  let keyPair: { privateKeyPem: string; publicKeyPem: string };
  beforeAll(async () => {
    const pool = new KeyPool(pki.keyPool);
    await pool.ensure(1);
    keyPair = pool.key(0, 1);
  });
  const csrFor = (cn: string, pair = keyPair) => createCsr(pair.privateKeyPem, pair.publicKeyPem, { commonName: cn });

  test.each([
    ["a body that is not JSON", 400, "bad-onboard-request", "the onboarding request body is not valid JSON", () => "{enrollmentKey:"],
    ["a body over the limit", 413, "body-too-large", `the onboarding request exceeds ${MAX_ONBOARD_BODY_BYTES} bytes`, () => JSON.stringify({ pad: "x".repeat(MAX_ONBOARD_BODY_BYTES) })],
    ["a missing field", 400, "bad-onboard-request", "'csr' is missing or not a non-empty string", () => JSON.stringify({ enrollmentKey: "k" })],
    ["a MAC that is not 12 hex digits", 400, "bad-onboard-request", "'mac' must be 12 hex digits (got '00:E0:C5:XX')", () => onboardBody({ mac: "00:E0:C5:XX" })],
  ])("%s → %i %s", async (_what, status, error, reason, body) => {
    expect(await post("/device-connector/v1/onboard", body())).toMatchObject({ status, body: { error, reason, by: "ums" } });
  });

  /** Writes a POST with `declared` content-length and `sent` bytes of body in 8 KiB pieces; resolves with what came back and when. */
  function rawPost(declared: number, sent: number): Promise<{ status: number; answeredAfterBytes: number }> {
    const u = new URL(ums.url);
    return new Promise((resolve, reject) => {
      let written = 0;
      let answeredAfterBytes = -1;
      let text = "";
      const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca: fs.readFileSync(ums.webRootCertPath), servername: ums.fqdn }, async () => {
        socket.write(`POST /device-connector/v1/onboard HTTP/1.1\r\nHost: ${ums.fqdn}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
        while (written < sent && answeredAfterBytes < 0 && !socket.destroyed) {
          const n = Math.min(8192, sent - written);
          socket.write("x".repeat(n));
          written += n;
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      socket.on("data", (d: Buffer) => {
        if (answeredAfterBytes < 0) answeredAfterBytes = written;
        text += d.toString("latin1");
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (m && text.includes("body-too-large")) {
          socket.destroy();
          resolve({ status: Number(m[1]), answeredAfterBytes });
        }
      });
      socket.on("error", reject);
    });
  }

  test("a body over the limit is read to its end before the 413 (as Tomcat swallows up to 2 MiB), so a proxy still writing it gets the answer, not a reset", async () => {
    const body = 70_000;
    expect(await rawPost(body, body)).toEqual({ status: 413, answeredAfterBytes: body });
  });

  test("a body declared beyond what is swallowed (2 MiB) is refused at once", async () => {
    const answer = await rawPost(SWALLOW_BYTES + 1, SWALLOW_BYTES + 1);
    expect(answer.status).toBe(413);
    expect(answer.answeredAfterBytes).toBeLessThan(SWALLOW_BYTES);
  });

  test("an unknown enrollment key → 403, without the key in the answer or the log", async () => {
    const answer = await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: "NOT-A-REAL-KEY-12345", csr: csrFor("00E0C5ABCDEF") }));
    expect(answer).toMatchObject({ status: 403, body: { error: "enrollment-key-unknown", reason: expect.stringMatching(/^enrollment key [0-9a-f]{10} is not one this UMS issued$/) } });
    expect(JSON.stringify(ums.logs)).not.toContain("NOT-A-REAL-KEY-12345");
  });

  test("a malformed CSR → 400 and the key is not spent; a CN mismatch and a weak key too; then the key works", async () => {
    const [key] = await imi.mintEnrollmentKeys(1);
    const garbage = "-----BEGIN CERTIFICATE REQUEST-----\nQUJDREVG\n-----END CERTIFICATE REQUEST-----\n";
    expect(await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: garbage }))).toMatchObject({
      status: 400,
      body: { error: "csr-malformed", reason: expect.stringContaining("csr does not parse") },
    });
    expect(await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: "not a pem" }))).toMatchObject({
      status: 400,
      body: { error: "csr-malformed", reason: "csr must be a PEM 'CERTIFICATE REQUEST' block" },
    });
    expect(await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: csrFor("someone-else") }))).toMatchObject({
      status: 400,
      body: { error: "csr-subject-mismatch", reason: "the CSR's CN 'someone-else' is not the unitId '00E0C5ABCDEF'" },
    });
    const weakKey = fs.readFileSync(pki.devices["rsa-1024"].key, "utf8");
    expect(await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: csrFor("00E0C5ABCDEF", { privateKeyPem: weakKey, publicKeyPem: publicKeyPemOf(weakKey) }) }))).toMatchObject({
      status: 400,
      body: { error: "csr-weak-key", reason: "the CSR holds an RSA-1024 key; device certificates are issued for RSA-2048 or larger" },
    });
    const ok = await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: csrFor("00E0C5ABCDEF") }));
    expect(ok).toMatchObject({ status: 200, body: { unitId: "00E0C5ABCDEF", certificate: expect.stringContaining("BEGIN CERTIFICATE") } });
    expect(await post("/device-connector/v1/onboard", onboardBody({ enrollmentKey: key, csr: csrFor("00E0C5ABCDEF") }))).toMatchObject({ status: 403, body: { error: "enrollment-key-used" } });
  });
});

describe("IMI", () => {
  test("no credentials → 401 with a basic-auth challenge; a wrong password too", async () => {
    const none = await imi.request("GET", "/umsapi/v3/thinclients");
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBe('Basic realm="UMS IMI"');
    expect(JSON.parse(none.text)).toMatchObject({ error: "unauthenticated", reason: expect.stringContaining("POST /umsapi/v3/login") });
    const wrong = await post("/umsapi/v3/login", "", { authorization: `Basic ${Buffer.from("admin:guess").toString("base64")}` });
    expect(wrong).toMatchObject({ status: 401, body: { reason: "wrong user name or password for 'admin'" } });
  });

  test.each([
    ["an unknown command", 400, "unknown-command", "unknown command 'format'; expected one of reboot, shutdown, settings2tc", "/umsapi/v3/thinclients?command=format", "[]"],
    ["no command", 400, "unknown-command", "missing ?command=; expected one of reboot, shutdown, settings2tc", "/umsapi/v3/thinclients", "[]"],
    ["a body that is not JSON", 400, "bad-imi-body", "the body is not valid JSON", "/umsapi/v3/thinclients?command=reboot", "[{id:"],
    ["an empty list", 400, "bad-imi-body", 'the body must be a non-empty JSON array like [{"id":"1001","type":"tc"}]', "/umsapi/v3/thinclients?command=reboot", "[]"],
    ["a target without type", 400, "bad-imi-body", '[0].type must be "tc" (got undefined)', "/umsapi/v3/thinclients?command=reboot", '[{"id":"1001"}]'],
    ["settings with reboot", 400, "bad-imi-body", "[0].settings is only valid with command=settings2tc", "/umsapi/v3/thinclients?command=reboot", '[{"id":"1001","type":"tc","settings":{"a":1}}]'],
    ["nested settings", 400, "bad-imi-body", "[0].settings must map names to strings, numbers or booleans", "/umsapi/v3/thinclients?command=settings2tc", '[{"id":"1001","type":"tc","settings":{"a":{"b":1}}}]'],
    ["an unknown device", 404, "unknown-device", "no thin client with id 9999; nothing was queued", "/umsapi/v3/thinclients?command=reboot", '[{"id":"1001","type":"tc"},{"id":"9999","type":"tc"}]'],
    ["a count of 0 keys", 400, "bad-imi-body", "'count' must be an integer from 1 to 10000 (got 0)", "/umsapi/v3/enrollmentkeys", '{"count":0}'],
  ])("%s → %i %s", async (_what, status, error, reason, path, body) => {
    const before = (await ums.listCommands()).length;
    expect(await post(path, body, { authorization: ADMIN })).toEqual({ status, body: { error, reason, by: "ums" }, headers: expect.anything() });
    expect((await ums.listCommands()).length).toBe(before);
  });

  test("an unknown exec_id → 404", async () => {
    await expect(imi.commandState("no-such-exec")).rejects.toMatchObject({ status: 404, refusal: { error: "unknown-command-exec" } });
  });
});

describe("routes", () => {
  test.each([
    ["GET", "/umsapi/v4/nothing", 404, "no-route", "the mock UMS has no route for GET /umsapi/v4/nothing"],
    ["DELETE", "/info", 405, "method-not-allowed", "/info accepts GET, not DELETE"],
    ["GET", "/device-connector/v1/ws", 426, "upgrade-required", "/device-connector/v1/ws is the device WebSocket: send 'Upgrade: websocket'"],
  ])("%s %s → %i %s", async (method, path, status, error, reason) => {
    const answer = await imi.request(method, path);
    expect({ status: answer.status, body: JSON.parse(answer.text) }).toEqual({ status, body: { error, reason, by: "ums" } });
  });
});

describe("the device WebSocket", () => {
  /** A socket with the lab's good device certificate; resolves when open. */
  function open(path = "/device-connector/v1/ws"): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(ums.wsUrl.replace("/device-connector/v1/ws", path), {
        ca: fs.readFileSync(ums.webRootCertPath),
        servername: ums.fqdn,
        cert: fs.readFileSync(pki.devices.good.chain),
        key: fs.readFileSync(pki.devices.good.key),
        maxPayload: 1024 * 1024,
      } as ClientOptions);
      ws.on("open", () => resolve(ws));
      ws.on("unexpected-response", (_q, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.on("error", () => undefined);
    });
  }
  /** The error message the server sent and the close code and reason. */
  function closed(ws: WebSocket): Promise<{ code: number; reason: string; said?: string }> {
    let said: string | undefined;
    ws.on("message", (d: Buffer) => {
      const m = JSON.parse(d.toString());
      if (m.type === "error") said = m.reason;
    });
    return new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString(), said })));
  }
  const hello = JSON.stringify({ type: "hello", unitId: "lab-device-good", mac: "00E0C5000002", firmware: "12.7.1" });

  test.each([
    ["a frame that is not JSON", CLOSE.unsupportedData, "message is not valid JSON", ["{not json"]],
    ["an unknown message type", CLOSE.badMessage, 'unknown device message type "telemetry"; expected one of hello, heartbeat, command-ack, command-result', [hello, '{"type":"telemetry"}']],
    ["a heartbeat before hello", CLOSE.badMessage, "expected 'hello' first, got 'heartbeat'", ['{"type":"heartbeat","sentAt":1}']],
    ["a hello for another unit", CLOSE.unauthenticated, "hello names unit '00E0C5FFFFFF' but the certificate is for 'lab-device-good'", ['{"type":"hello","unitId":"00E0C5FFFFFF","mac":"00E0C5FFFFFF","firmware":"12.7.1"}']],
    ["a frame over MAX_MESSAGE_BYTES", CLOSE.tooLarge, `exceeds ${MAX_MESSAGE_BYTES}`, [JSON.stringify({ type: "heartbeat", sentAt: 1, pad: "x".repeat(MAX_MESSAGE_BYTES) })]],
  ])("%s → close %i with the reason", async (_what, code, reason, frames) => {
    const ws = await open();
    const end = closed(ws);
    for (const f of frames) ws.send(f);
    const result = await end;
    expect(result.code).toBe(code);
    expect(result.said).toContain(reason);
    expect(ums.logs).toContainEqual(expect.objectContaining({ event: "socket-closed-by-ums", closeCode: code, reason: result.said }));
  });

  test("a binary frame → close 1003", async () => {
    const ws = await open();
    const end = closed(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await end).toMatchObject({ code: CLOSE.unsupportedData, said: "binary frames are not accepted; send one JSON object per text frame" });
  });

  test("a frame far over the limit is cut off by the socket itself (1009)", async () => {
    const ws = await open();
    const end = closed(ws);
    ws.send("x".repeat(MAX_MESSAGE_BYTES * 4 + 1));
    expect((await end).code).toBe(CLOSE.tooLarge);
  });

  test("no hello in time → close 1008", async () => {
    const ws = await open();
    expect(await closed(ws)).toMatchObject({ code: CLOSE.policy, said: "no hello within 400 ms" });
  });

  test("a device that stops heartbeating is dropped after three intervals and shown offline", async () => {
    const since = new Date().toISOString();
    const ws = await open();
    const end = closed(ws);
    ws.send(hello); // then silence
    expect((await end).code).toBe(1006); // terminated, no close frame: the peer is presumed gone
    const dropped = await ums.waitForLog((e) => e.event === "heartbeat-timeout" && e.unitId === "lab-device-good" && e.time >= since);
    // The session that had said hello (it has a deviceId) is the one that went offline.
    await ums.waitForLog((e) => e.event === "device-disconnected" && e.unitId === "lab-device-good" && e.deviceId !== undefined && e.time >= dropped.time);
    expect((await ums.listDevices()).find((d) => d.unitID === "lab-device-good")).toMatchObject({ online: false });
  });

  test("an upgrade on another path → 404", async () => {
    await expect(open("/umsapi/v3/ws")).rejects.toMatchObject({ status: 404 });
  });
});

test("after all of that, the queued command is delivered once the device is back, and new devices still onboard", async () => {
  // (the bad input above has run: the UMS logged its refusals and socket closes)
  expect(ums.logs.filter((e) => e.event === "refused").length).toBeGreaterThan(20);
  expect(ums.logs.filter((e) => e.event === "socket-closed-by-ums").length).toBeGreaterThanOrEqual(6);
  expect((await imi.commandState(queuedExecId)).state).toBe("QUEUED");
  fleet.devices[0].start();
  expect(await imi.waitForCommand(queuedExecId, 10_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
  expect(fleet.devices[0].settings).toEqual({ "after.bad.input": true });

  const more = await new DeviceFleet({ pki, clusterUrl: ums.url, count: 1, enrollmentKeys: await imi.mintEnrollmentKeys(1) }).start();
  try {
    await more.waitForOnline(1, 10_000);
  } finally {
    await more.stop();
  }
});
