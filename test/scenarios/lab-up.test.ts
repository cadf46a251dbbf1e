import * as path from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { projectRoot } from "../../core/project-root";
import { tempDir } from "../helpers/config";
import { httpsGet } from "../../simulator/scenarios/probes";

/** `ums-edge lab up`: one topology for real clients, its endpoints as one JSON line, a clean stop on SIGTERM. */
test("lab up prints the endpoints, serves real clients and stops cleanly on SIGTERM", async () => {
  const child = spawn(process.execPath, [path.join(projectRoot(), "dist", "cli", "index.js"), "lab", "up", "--topology", "alb-verify", "--dir", path.join(tempDir(), "lab")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`lab up exited with ${code} before its ready line`)));
    });
    const ready = JSON.parse(line) as { topology: string; devices: { webAppUrl: string; clusterUrl: string; serverName: string; trustedCaFile: string }; admin: { url: string }; pkiDir: string };
    expect(ready).toMatchObject({ topology: "alb-verify", runtime: "loopback", devices: { serverName: "ums.lab.test" } });
    expect(ready.devices.clusterUrl).not.toBe(ready.devices.webAppUrl); // 8443 (mTLS) and 443
    const page = await httpsGet({ url: ready.devices.webAppUrl, serverName: ready.devices.serverName, trustedCaFile: ready.devices.trustedCaFile }, "/wums-app/");
    expect(page.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const after = await httpsGet({ url: ready.devices.webAppUrl, serverName: ready.devices.serverName, trustedCaFile: ready.devices.trustedCaFile }, "/wums-app/");
    expect(after.error).toBe("ECONNREFUSED");
  } finally {
    child.kill("SIGKILL");
  }
}, 60_000);

test("lab up refuses an unknown topology with exit code 2", async () => {
  const child = spawn(process.execPath, [path.join(projectRoot(), "dist", "cli", "index.js"), "lab", "up", "--topology", "nlb"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code).toBe(2);
  expect(stderr).toMatch(/^ums-edge: --topology: unknown topology 'nlb'\n  fix: use one of direct, reverse-proxy, icg, alb-verify/);
});
