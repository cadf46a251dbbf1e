import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import type { LabPki } from "../../simulator/pki";
import { MockUms, StartedMockUms, ImiClient } from "../../simulator/ums";
import { DeviceFleet, DeviceEvent } from "../../simulator/device";
import { openUmsStore } from "../../simulator/ums/store/open-store";
import { SCHEMA_VERSION } from "../../simulator/ums/store/schema";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { spawnEntry, EntryProcess } from "./support/spawn-entry";
import { until } from "../helpers/until";

/**
 * The UMS keeps its state in a SQLite file: a restart on the same file loses no device, key or
 * queued command, and sends no command twice. A file it cannot trust is refused, never reset.
 */

const FAST = { bootMs: 50, backoff: { initialMs: 20, maxMs: 200 }, handshakeTimeoutMs: 5000 } as const;

let pki: LabPki;
let dir: string;
beforeAll(async () => {
  pki = await testLabPki();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-store-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const start = (db: string, port = 0) => new MockUms({ pki, port, db, heartbeatMs: 1000 }).start();
const imiOf = (ums: StartedMockUms) => new ImiClient({ baseUrl: ums.url, caFile: ums.webRootCertPath, serverName: ums.fqdn });

test("a restarted UMS on the same file keeps devices, keys and queued commands, and sends none twice", async () => {
  const db = path.join(dir, "ums.sqlite");
  let ums = await start(db);
  const port = ums.port;
  const [key1, key2] = await imiOf(ums).mintEnrollmentKeys(2);
  const executed = new Map<string, number>();
  const duplicates: string[] = [];
  const onEvent = (e: DeviceEvent) => {
    if (e.type === "command") executed.set(e.commandId, (executed.get(e.commandId) ?? 0) + 1);
    if (e.type === "duplicate-command") duplicates.push(e.commandId);
  };
  const fleet = await new DeviceFleet({ pki, clusterUrl: ums.url, count: 1, enrollmentKeys: [key1], onEvent, ...FAST }).start();
  try {
    await fleet.waitForOnline(1, 20_000);
    const device = fleet.devices[0];
    const [done] = await imiOf(ums).command("settings2tc", [device.deviceId!], { "system.time.ntp": "a" });
    expect(await imiOf(ums).waitForCommand(done.exec_id)).toMatchObject({ state: "SUCCESS", deliveries: 1 });

    // The UMS goes away; a command queued just before is in the file, not yet delivered.
    await ums.stop();
    const stored = await openUmsStore(db);
    const queuedBefore = await stored.commands.enqueue({ deviceId: device.deviceId!, mac: device.mac }, "settings2tc", { "system.time.ntp": "b" });
    await stored.close();

    ums = await start(db, port);
    const imi = imiOf(ums);
    // The device reconnects by itself (backoff) to the restarted UMS and gets the queued command, once.
    expect(await imi.waitForCommand(queuedBefore.execId, 15_000)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
    const [during] = await imi.command("settings2tc", [device.deviceId!], { "system.time.ntp": "c" });
    expect(await imi.waitForCommand(during.exec_id)).toMatchObject({ state: "SUCCESS", deliveries: 1 });
    // Same device, same IMI id, settings carried over; the first command was not sent again.
    expect(await imi.thinclient(device.deviceId!)).toMatchObject({ unitID: device.unitId, online: true, settings: { "system.time.ntp": "c" } });
    expect((await imi.commandState(done.exec_id)).deliveries).toBe(1);
    expect([...executed.values()]).toEqual([1, 1, 1]);
    expect(duplicates).toEqual([]);
    await until(async () => (await ums.listDevices()).length === 1, "one device");

    // The spent key stays spent; the unused one still works.
    const second = await new DeviceFleet({ pki, clusterUrl: ums.url, count: 2, enrollmentKeys: [key1, key2], keyPoolSize: 2, maxAttempts: 1, ...FAST }).start();
    try {
      await second.waitForSettled(20_000);
      const states = second.devices.map((d) => d.lastRefusal?.error ?? d.state).sort();
      expect(states).toEqual(["enrollment-key-used", "online"]);
    } finally {
      await second.stop();
    }
  } finally {
    await fleet.stop();
    await ums.stop();
  }
});

test("a file that is not a SQLite database is refused with the file and the fix, and left as it was", async () => {
  const db = path.join(dir, "ums.sqlite");
  const garbage = Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(4096, 0xab)]);
  fs.writeFileSync(db, garbage);
  await expect(start(db)).rejects.toThrow(`--db ${db}: not a readable ums-edge SQLite database`);
  await expect(start(db)).rejects.toThrow(`mv '${db}' '${db}.broken'`);
  expect(fs.readFileSync(db)).toEqual(garbage);
});

test("a database written by a newer schema is refused, its data untouched", async () => {
  const db = path.join(dir, "ums.sqlite");
  (await openUmsStore(db)).close();
  const raw = new Database(db);
  raw.prepare("UPDATE ums_meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
  raw.close();
  await expect(start(db)).rejects.toThrow(`written by a newer ums-edge (schema version ${SCHEMA_VERSION + 1}; this one reads up to ${SCHEMA_VERSION})`);
  const after = new Database(db, { readonly: true });
  expect(after.prepare("SELECT value FROM ums_meta WHERE key = 'schema_version'").get()).toEqual({ value: String(SCHEMA_VERSION + 1) });
  after.close();
});

test("a SQLite database of another program is refused", async () => {
  const db = path.join(dir, "other.sqlite");
  const raw = new Database(db);
  raw.exec("CREATE TABLE invoices (id INTEGER)");
  raw.close();
  await expect(start(db)).rejects.toThrow(`holds tables (invoices) but is not a ums-edge UMS database`);
});

test("the database file is readable by its owner only", async () => {
  const db = path.join(dir, "ums.sqlite");
  await (await openUmsStore(db)).close();
  expect(fs.statSync(db).mode & 0o777).toBe(0o600);
});

describe("the UMS process with --db", () => {
  const running: EntryProcess[] = [];
  afterAll(() => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  });
  const spawnUms = (db: string, port = "0") => {
    const p = spawnEntry("simulator/ums/main.ts", ["--pki", testPkiDir(), "--port", port, "--db", db, "--admin-password", "store-test", "--quiet"]);
    running.push(p);
    return p;
  };

  test("killed (SIGKILL) and started again on the same file: the enrolled device and the spent key are still there", async () => {
    const db = path.join(dir, "ums.sqlite");
    const first = spawnUms(db);
    const ready = await first.nextLine((l) => l.event === "ready");
    expect(ready.db).toBe(db);
    const imi = () => new ImiClient({ baseUrl: ready.url as string, caFile: pki.web.rootCert, serverName: pki.fqdn, credentials: { username: "admin", password: "store-test" } });
    const [key, spare] = await imi().mintEnrollmentKeys(2);
    const fleet = await new DeviceFleet({ pki, clusterUrl: ready.url as string, count: 1, enrollmentKeys: [key], ...FAST }).start();
    await fleet.waitForOnline(1, 20_000);
    const unitId = fleet.devices[0].unitId;
    await fleet.stop();
    first.child.kill("SIGKILL");
    await first.exited;

    const again = spawnUms(db, String(new URL(ready.url as string).port));
    await again.nextLine((l) => l.event === "ready");
    expect(await imi().thinclients()).toEqual([expect.objectContaining({ unitID: unitId, online: false })]);
    again.child.kill("SIGTERM");
    expect(await again.exited).toBe(0);
    const store = await openUmsStore(db);
    expect(await store.keys.counts()).toEqual({ usable: 1, used: 1 });
    expect(await store.keys.check(spare)).toBe("usable");
    await store.close();
  });

  test("a corrupt file: exit 2, the file and the fix on stderr, nothing on stdout", async () => {
    const db = path.join(dir, "ums.sqlite");
    fs.writeFileSync(db, "this is not a database, and it is long enough to have a header of sorts".repeat(20));
    const ums = spawnUms(db);
    expect(await ums.exited).toBe(2);
    expect(ums.lines).toEqual([]);
    expect(ums.stderr()).toContain(`--db ${db}: not a readable ums-edge SQLite database`);
    expect(ums.stderr()).toContain("fix: move it aside");
  });
});
