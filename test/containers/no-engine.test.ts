import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../core/project-root";
import { MockUmsContainer, probeEngine, ContainerNetwork } from "../../simulator/runtime/containers";
import { testLabPki } from "../helpers/lab-pki";

/**
 * No Docker engine: runs everywhere (the engine is replaced by testcontainers' own failure, as it
 * throws when no runtime strategy works), so the message is checked even where Docker runs.
 */
jest.mock("testcontainers", () => ({
  ...jest.requireActual("testcontainers"),
  getContainerRuntimeClient: jest.fn(async () => {
    throw new Error("Could not find a working container runtime strategy");
  }),
}));

test("starting a component says which engine was tried and what to start", async () => {
  const pki = await testLabPki();
  await expect(new MockUmsContainer({ pki: pki.dir }).start()).rejects.toMatchObject({
    name: "UserError",
    exitCode: 2,
    message: expect.stringMatching(/^no Docker engine answers at (DOCKER_HOST=\S+|the default socket \/var\/run\/docker\.sock \(DOCKER_HOST is not set\)) \(Could not find a working container runtime strategy\)\n  fix: start a Docker engine .*\n  or: on a Linux machine without one, 'bash scripts\/containers\/ci\.sh'/s),
  });
  await expect(new ContainerNetwork({ internal: true }).start()).rejects.toThrow(/^no Docker engine answers/);
  await expect(probeEngine()).resolves.toEqual({ ok: false, reason: expect.stringMatching(/^no Docker engine at /) });
});

test("`ums-edge simulate --runtime containers` without an engine: exit 2, what to start, no stack trace, before any lab is made", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-no-engine-"));
  try {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(projectRoot(), "dist/cli/index.js"), "simulate", "--runtime", "containers", "--topology", "direct", "--lab", path.join(dir, "lab"), "--report", path.join(dir, "report")], {
      env: { ...process.env, DOCKER_HOST: `unix://${dir}/no-engine.sock` },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ums-edge: no Docker engine answers at DOCKER_HOST=unix:\/\/\S+no-engine\.sock .*\n  fix: start a Docker engine/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, "lab", "pki"))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(30_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
