import * as fs from "node:fs";
import { LabPki } from "../../simulator/pki";
import { MockUms, ImiClient } from "../../simulator/ums";
import { DeviceFleet } from "../../simulator/device";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { spawnEntry, EntryProcess } from "../ums/support/spawn-entry";
import { request } from "./support/clients";

/**
 * The ICG as its own process (one JSON ready line, JSON logs on stderr, clean stop on SIGTERM), the
 * UMS process's --icg flag, and an ICG killed outright: the UMS and the devices come back by
 * themselves and nothing queued meanwhile is lost or executed twice.
 */

let pki: LabPki;
const running: EntryProcess[] = [];
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  pki = await testLabPki();
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
});

function start(entry: "simulator/icg/main.ts" | "simulator/ums/main.ts", args: string[]): EntryProcess {
  const p = spawnEntry(entry, args);
  running.push(p);
  return p;
}

const statusOf = async (url: string) => (await request(url, { ca: fs.readFileSync(pki.web.rootCert, "utf8"), servername: pki.fqdn })).json;

test("the ICG and the UMS (--icg) as processes: ready lines, the tunnel, JSON logs, clean stop on SIGTERM", async () => {
  const icg = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", "0"]);
  const ready = await icg.nextLine((l) => l.event === "ready");
  expect(ready).toMatchObject({
    component: "icg",
    host: "127.0.0.1",
    url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
    serverName: `icg.${pki.fqdn}`,
    statusUrl: expect.stringMatching(/\/usg\/check-status$/),
    tunnelUrl: expect.stringMatching(/^wss:\/\/127\.0\.0\.1:\d+\/usg\/v1\/tunnel$/),
    wsUrl: expect.stringMatching(/\/device-connector\/v1\/ws$/),
    forwarding: { enabled: false },
  });
  expect(await statusOf(ready.statusUrl as string)).toEqual({ status: "warn" });

  const ums = start("simulator/ums/main.ts", ["--pki", testPkiDir(), "--port", "0", "--icg", ready.url as string]);
  expect(await ums.nextLine((l) => l.event === "ready")).toMatchObject({ component: "ums", icgUrl: ready.url });
  expect(await statusOf(ready.statusUrl as string)).toEqual({ status: "ok" });

  ums.child.kill("SIGTERM");
  expect(await ums.exited).toBe(0);
  icg.child.kill("SIGTERM");
  expect(await icg.exited).toBe(0);
  expect(icg.lines).toHaveLength(1);
  const logs = icg.stderr().trim().split("\n").map((l) => JSON.parse(l));
  expect(logs.every((l) => l.component === "icg")).toBe(true);
  expect(logs.map((l) => l.event)).toEqual(expect.arrayContaining(["started", "ums-connected", "ums-registered", "ums-disconnected", "stopped"]));
  expect(icg.stderr() + ums.stderr()).not.toMatch(/PRIVATE KEY/);
  expect(ums.stderr()).toContain('"event":"icg-connected"');
});

test("an ICG killed outright (SIGKILL) and started again: UMS and devices reconnect, queued commands are delivered exactly once", async () => {
  const first = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", "0", "--quiet"]);
  const ready = await first.nextLine((l) => l.event === "ready");
  const ums = await new MockUms({ pki, port: 0, heartbeatMs: 1000, icg: { url: ready.url as string, backoff: { initialMs: 50, maxMs: 400 } } }).start();
  stops.push(() => ums.stop());
  const imi = new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });
  const fleet = await new DeviceFleet({ pki, clusterUrl: ready.url as string, count: 2, enrollmentKeys: await imi.mintEnrollmentKeys(2), bootMs: 50, backoff: { initialMs: 20, maxMs: 300 } }).start();
  stops.push(() => fleet.stop());
  await fleet.waitForOnline(2, 15_000);
  const ids = fleet.devices.map((d) => d.deviceId!);

  first.child.kill("SIGKILL");
  await first.exited;
  await fleet.waitFor(() => !ums.icgConnected && ums.onlineCount === 0, 10_000, "the UMS sees the ICG gone");
  const queued = await imi.command("settings2tc", ids, { "after.sigkill": 1 });
  expect(queued.map((c) => c.state)).toEqual(["QUEUED", "QUEUED"]);

  const second = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", String(ready.port), "--quiet"]);
  await second.nextLine((l) => l.event === "ready");
  for (const c of queued) expect(await imi.waitForCommand(c.exec_id, 20_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
  for (const d of fleet.devices) expect(d.stats).toMatchObject({ commandsExecuted: 1, duplicateDeliveries: 0 });
  expect(ums.logs).toContainEqual(expect.objectContaining({ event: "icg-disconnected", relayedSessionsClosed: expect.any(Number) }));
  second.child.kill("SIGTERM");
  expect(await second.exited).toBe(0);
});

test("bad input exits 2 with a message and prints no ready line", async () => {
  // Started together: each process pays its own start-up, none waits for another's.
  const badPort = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", "99999"]);
  const halfCert = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", "0", "--cert-chain", pki.icg.chain]);
  const icg = start("simulator/icg/main.ts", ["--pki", testPkiDir(), "--port", "0", "--quiet"]);

  expect(await badPort.exited).toBe(2);
  expect(badPort.stderr()).toContain("icg: --port: '99999' is not an integer from 0 to 65535");
  expect(await halfCert.exited).toBe(2);
  expect(halfCert.stderr()).toContain("--cert-chain and --cert-key go together");
  expect([...badPort.lines, ...halfCert.lines]).toEqual([]);

  const ready = await icg.nextLine((l) => l.event === "ready");
  const ums = start("simulator/ums/main.ts", ["--pki", testPkiDir(), "--port", "0", "--icg", ready.url as string, "--icg-ca-file", pki.deviceCa.rootCert]);
  expect(await ums.exited).toBe(2);
  expect(ums.lines).toEqual([]);
  expect(ums.stderr()).toMatch(/^mock-ums: icg: the ICG at https:\/\/127\.0\.0\.1:\d+ presented a certificate this UMS does not trust/);
  expect(ums.stderr()).toContain("fix: the ICG certificate must chain to");
  icg.child.kill("SIGTERM");
  expect(await icg.exited).toBe(0);
});
