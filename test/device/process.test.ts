import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LabPki } from "../../simulator/pki";
import { MockUms, StartedMockUms } from "../../simulator/ums";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";
import { spawnEntry, EntryProcess } from "../ums/support/spawn-entry";

/** The device fleet as its own process (what the benches spawn): JSON lines in, stats out. */

let pki: LabPki;
let ums: StartedMockUms;
let dir: string;
const running: EntryProcess[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  ums = await new MockUms({ pki, port: 0, heartbeatMs: 200, appSizeBytes: 4096 }).start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-fleet-"));
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await ums?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("onboards, reports each device, settles, downloads, and prints its stats on SIGTERM", async () => {
  const keysFile = path.join(dir, "keys.txt");
  fs.writeFileSync(keysFile, `# minted for this run\n${(await ums.mintEnrollmentKeys(2)).join("\n")}\n`);
  const fleet = spawnEntry("simulator/device/main.ts", [
    ...["--pki", testPkiDir(), "--cluster-url", ums.url, "--count", "2", "--enrollment-keys-file", keysFile],
    ...["--identity", "expired", "--backoff-initial-ms", "20", "--backoff-max-ms", "100", "--app", "chromium@120.0"],
  ]);
  running.push(fleet);
  expect(await fleet.nextLine((l) => l.event === "started")).toMatchObject({ component: "devices", devices: 3 });
  const settled = await fleet.nextLine((l) => l.event === "settled");
  expect(settled).toMatchObject({ devices: 3, states: { online: 2, failed: 1 }, onboardingMs: { count: 2 }, connectMs: { count: 2 } });
  expect(Object.keys(settled.lastRefusals as object)).toEqual([expect.stringContaining("connect: HTTP 401 by ums [certificate-expired]")]);
  const downloadsOk = () => fleet.lines.filter((l) => l.event === "app-download" && l.ok === true).length;
  await fleet.nextLine((l) => l.event === "app-download" && downloadsOk() === 2);
  expect(fleet.lines.filter((l) => l.event === "device" && l.type === "onboarded")).toHaveLength(2);
  expect(ums.onlineCount).toBe(2);

  fleet.child.kill("SIGTERM");
  expect(await fleet.exited).toBe(0);
  const stats = fleet.lines[fleet.lines.length - 1];
  expect(stats).toMatchObject({ event: "stats", devices: 3, perDevice: expect.arrayContaining([expect.objectContaining({ state: "stopped", onboardingMs: expect.any(Number) })]) });
});

test("options the user can fix exit 2 with the reason", async () => {
  const fleet = spawnEntry("simulator/device/main.ts", ["--pki", testPkiDir(), "--cluster-url", ums.url, "--count", "3", "--enrollment-key", "only-one"]);
  running.push(fleet);
  expect(await fleet.exited).toBe(2);
  expect(fleet.stderr()).toContain("3 devices onboard but only 1 enrollment keys were given");
});
