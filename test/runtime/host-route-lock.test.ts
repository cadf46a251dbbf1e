import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { acquireHostRouteLock } from "../../simulator/runtime/netns/host-route-lock";
import { tempDir } from "../helpers/config";

/** The lock that keeps two namespace labs from routing the same subnets through the host (on a private path here). */

const lockIn = () => path.join(tempDir("ums-edge-lock-"), "host-routes.lock");

test("re-entrant in one process: the lock goes only when the outermost hold is released", async () => {
  const lock = lockIn();
  const outer = await acquireHostRouteLock(1000, undefined, lock);
  const inner = await acquireHostRouteLock(1000, undefined, lock);
  inner();
  expect(fs.existsSync(lock)).toBe(true);
  outer();
  expect(fs.existsSync(lock)).toBe(false);
});

test("a holder that died is taken over; a living one is waited for, and named", async () => {
  const lock = lockIn();
  fs.mkdirSync(lock);
  fs.writeFileSync(path.join(lock, "pid"), "999999999");
  const release = await acquireHostRouteLock(1000, undefined, lock);
  expect(fs.readFileSync(path.join(lock, "pid"), "utf8")).toBe(String(process.pid));
  release();

  const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600)"]);
  fs.mkdirSync(lock);
  fs.writeFileSync(path.join(lock, "pid"), String(other.pid));
  const waitedFor: Array<number | undefined> = [];
  const exited = new Promise<void>((resolve) => other.on("exit", () => resolve()));
  const second = await acquireHostRouteLock(10_000, (pid) => waitedFor.push(pid), lock);
  await exited;
  expect(waitedFor).toEqual([other.pid]);
  second();
  await expect(
    (async () => {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.ppid));
      return acquireHostRouteLock(300, undefined, lock);
    })(),
  ).rejects.toThrow(`another namespace lab (pid ${process.ppid}) held ${lock} for 0 s`);
});
