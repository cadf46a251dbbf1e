import { openUmsStore, SqlUmsStore } from "../../simulator/ums/store/open-store";

/** The queue's contract (on the store the UMS uses): due until acknowledged, finished once, nothing lost between devices. */

const A = { deviceId: "1001", mac: "00E0C5000001" };
const B = { deviceId: "1002", mac: "00E0C5000002" };
const SERVER = "127.0.0.1:8443";

let store: SqlUmsStore;
beforeEach(async () => {
  store = await openUmsStore(":memory:");
});
afterEach(() => store.close());

test("a command stays due until its result is in, across any number of deliveries; once finished no server claims it", async () => {
  const q = store.commands;
  const c = await q.enqueue(A, "reboot");
  expect(await q.due(A.deviceId)).toEqual([c]);
  await q.claim(c.execId, SERVER);
  const again = await q.claim(c.execId, SERVER); // sent again after a reconnect
  expect(again).toMatchObject({ state: "DELIVERED", deliveries: 2, deliveredBy: SERVER, message: expect.stringContaining("delivery 2") });
  expect((await q.due(A.deviceId)).map((d) => d.execId)).toEqual([c.execId]);
  expect(await q.acknowledge(A.deviceId, c.execId)).toBe("applied");
  // Acknowledged, no result yet: still due, so a new session (its server died before the result) asks again.
  expect((await q.due(A.deviceId)).map((d) => d.execId)).toEqual([c.execId]);
  expect(await q.complete(A.deviceId, c.execId, "ok")).toBe("applied");
  expect(await q.due(A.deviceId)).toEqual([]);
  expect(await q.acknowledge(A.deviceId, c.execId)).toBe("duplicate");
  // Finished: no server may claim it for another delivery.
  expect(await q.claim(c.execId, "another:8443")).toBeUndefined();
});

test("results finish a command once; a result without an ack counts as both", async () => {
  const q = store.commands;
  const c = await q.enqueue(A, "settings2tc", { a: 1 });
  await q.claim(c.execId, SERVER);
  expect(await q.complete(A.deviceId, c.execId, "ok", "applied 1 setting(s)")).toBe("applied");
  expect(await q.get(c.execId)).toMatchObject({ state: "SUCCESS", message: "applied 1 setting(s)", settings: { a: 1 }, acknowledgedAt: expect.any(Date), finishedAt: expect.any(Date) });
  expect(await q.complete(A.deviceId, c.execId, "failed")).toBe("duplicate");
  expect((await q.get(c.execId))?.state).toBe("SUCCESS");
});

test("a device cannot acknowledge or finish another device's command", async () => {
  const q = store.commands;
  const c = await q.enqueue(A, "shutdown");
  expect(await q.acknowledge(B.deviceId, c.execId)).toBe("unknown-command");
  expect(await q.complete(B.deviceId, c.execId, "ok")).toBe("unknown-command");
  expect(await q.acknowledge(A.deviceId, "no-such-id")).toBe("unknown-command");
  expect(await q.due(A.deviceId)).toEqual([c]);
});

test("commands are due in the order they were queued, per device", async () => {
  const q = store.commands;
  const a1 = await q.enqueue(A, "settings2tc");
  const b1 = await q.enqueue(B, "reboot");
  const a2 = await q.enqueue(A, "reboot");
  expect(await q.due(A.deviceId)).toEqual([a1, a2]);
  expect(await q.due(B.deviceId)).toEqual([b1]);
  expect(new Set((await q.list()).map((c) => c.execId)).size).toBe(3);
  expect(await q.counts()).toMatchObject({ QUEUED: 3 });
});

test("an enrollment key works once; unknown keys never; only its hash is stored", async () => {
  const keys = store.keys;
  await keys.add(["given-key"]);
  const [minted] = await keys.mint(1);
  expect(minted).toMatch(/^[A-Z2-9]{6}(-[A-Z2-9]{6}){3}$/);
  expect(await keys.consume(minted)).toBe("usable");
  expect(await keys.consume(minted)).toBe("used");
  expect(await keys.consume("given-key")).toBe("usable");
  expect(await keys.check("made-up")).toBe("unknown");
  expect(await keys.counts()).toEqual({ usable: 0, used: 2 });
  const stored = await store.db.query("SELECT key_hash FROM enrollment_keys");
  expect(stored.map((r) => r.key_hash)).not.toContain(minted);
});

test("onboarding a known unit needs the administrator's permission, which one onboarding uses up", async () => {
  const d = store.devices;
  const first = await d.onboard({ unitId: "U1", mac: "00E0C5000001", firmware: "12.5.0", certificateSerial: "AA" });
  expect(first).toMatchObject({ ok: true, device: { id: "1001", unitId: "U1", enrolledBy: "onboarding" } });
  expect(await d.onboard({ unitId: "U1", mac: "00E0C5000001", firmware: "12.5.0", certificateSerial: "BB" })).toMatchObject({ ok: false });
  await d.allowReenrollment("1001");
  expect(await d.onboard({ unitId: "U1", mac: "00E0C5000001", firmware: "12.5.1", certificateSerial: "CC" })).toMatchObject({ ok: true, replacedSerial: "AA", device: { id: "1001", certificateSerial: "CC" } });
  expect(await d.onboard({ unitId: "U1", mac: "00E0C5000001", firmware: "12.5.1", certificateSerial: "DD" })).toMatchObject({ ok: false });
});
