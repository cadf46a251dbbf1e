import * as fs from "node:fs";

/**
 * One namespace lab at a time across jest workers: labs route fixed subnets through the host, so two
 * at once clash ("RTNETLINK answers: File exists"). A directory is the lock (mkdir is atomic); a
 * holder that died leaves its pid, and the lock is taken over.
 */
const LOCK = "/tmp/ums-edge-netns-tests.lock";

function holderAlive(): boolean {
  try {
    const pid = Number(fs.readFileSync(`${LOCK}/pid`, "utf8"));
    if (!pid) return true; // being written: give it a moment
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function acquireNetnsLock(timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(`${LOCK}/pid`, String(process.pid));
      return () => fs.rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!holderAlive()) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another namespace test held ${LOCK} for ${timeoutMs / 1000} s`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}
