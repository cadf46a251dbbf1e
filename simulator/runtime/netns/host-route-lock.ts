import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * One namespace lab with a link to the host at a time, on this machine: such a lab routes fixed
 * subnets through the host, and a second one would fail halfway ("RTNETLINK answers: File exists").
 * A directory is the lock (mkdir is atomic) holding the holder's pid; a holder that died is taken
 * over. Re-entrant within a process (a test suite holds it around the labs it starts).
 */
export const HOST_ROUTE_LOCK = path.join(os.tmpdir(), "ums-edge-netns-host-routes.lock");

/** Holds of this process, by lock path. */
const depths = new Map<string, number>();

function holder(lock: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(lock, "pid"), "utf8")) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return true; // being written: give it a moment
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits (up to `timeoutMs`) for the lock; `onWait` is told once whom it waits for. Resolves to its release. */
export async function acquireHostRouteLock(timeoutMs = 600_000, onWait?: (pid: number | undefined) => void, lock = HOST_ROUTE_LOCK): Promise<() => void> {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const left = (depths.get(lock) ?? 1) - 1;
    depths.set(lock, left);
    if (left === 0) fs.rmSync(lock, { recursive: true, force: true });
  };
  if ((depths.get(lock) ?? 0) > 0) {
    depths.set(lock, depths.get(lock)! + 1);
    return release;
  }
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      depths.set(lock, 1);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = holder(lock);
      if (!alive(pid)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another namespace lab (pid ${pid ?? "?"}) held ${lock} for ${Math.round(timeoutMs / 1000)} s`);
      if (!told) onWait?.(pid);
      told = true;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
