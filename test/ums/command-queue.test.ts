import { CommandQueue } from "../../simulator/ums/command-queue";
import { EnrollmentKeys } from "../../simulator/ums/enrollment-keys";

/** The queue's contract: due until acknowledged, finished once, nothing lost between devices. */

const A = { deviceId: "1001", mac: "00E0C5000001" };
const B = { deviceId: "1002", mac: "00E0C5000002" };

test("a command stays due until the device acknowledges it, across any number of deliveries", () => {
  const q = new CommandQueue();
  const c = q.enqueue(A, "reboot");
  expect(q.due(A.deviceId)).toEqual([c]);
  q.markDelivered(c);
  q.markDelivered(c); // sent again after a reconnect
  expect(c).toMatchObject({ state: "DELIVERED", deliveries: 2 });
  expect(q.due(A.deviceId)).toEqual([c]);
  expect(q.acknowledge(A.deviceId, c.execId)).toBe("applied");
  expect(q.due(A.deviceId)).toEqual([]);
  expect(q.acknowledge(A.deviceId, c.execId)).toBe("duplicate");
});

test("results finish a command once; a result without an ack counts as both", () => {
  const q = new CommandQueue();
  const c = q.enqueue(A, "settings2tc", { a: 1 });
  q.markDelivered(c);
  expect(q.complete(A.deviceId, c.execId, "ok", "applied 1 setting(s)")).toBe("applied");
  expect(c).toMatchObject({ state: "SUCCESS", message: "applied 1 setting(s)", acknowledgedAt: expect.any(Date), finishedAt: expect.any(Date) });
  expect(q.complete(A.deviceId, c.execId, "failed")).toBe("duplicate");
  expect(c.state).toBe("SUCCESS");
});

test("a device cannot acknowledge or finish another device's command", () => {
  const q = new CommandQueue();
  const c = q.enqueue(A, "shutdown");
  expect(q.acknowledge(B.deviceId, c.execId)).toBe("unknown-command");
  expect(q.complete(B.deviceId, c.execId, "ok")).toBe("unknown-command");
  expect(q.acknowledge(A.deviceId, "no-such-id")).toBe("unknown-command");
  expect(q.due(A.deviceId)).toEqual([c]);
});

test("commands are due in the order they were queued, per device", () => {
  const q = new CommandQueue();
  const a1 = q.enqueue(A, "settings2tc");
  const b1 = q.enqueue(B, "reboot");
  const a2 = q.enqueue(A, "reboot");
  expect(q.due(A.deviceId)).toEqual([a1, a2]);
  expect(q.due(B.deviceId)).toEqual([b1]);
  expect(new Set(q.list().map((c) => c.execId)).size).toBe(3);
  expect(q.counts).toMatchObject({ QUEUED: 3 });
});

test("an enrollment key works once; unknown keys never", () => {
  const keys = new EnrollmentKeys(["given-key"]);
  const [minted] = keys.mint(1);
  expect(minted).toMatch(/^[A-Z2-9]{6}(-[A-Z2-9]{6}){3}$/);
  expect(keys.consume(minted)).toBe("usable");
  expect(keys.consume(minted)).toBe("used");
  expect(keys.consume("given-key")).toBe("usable");
  expect(keys.check("made-up")).toBe("unknown");
  expect(keys.counts).toEqual({ usable: 0, used: 2 });
});
