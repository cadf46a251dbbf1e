import * as fs from "node:fs";
import * as path from "node:path";
import { runTopology, TopologyRun } from "../../simulator/scenarios/run-topology";
import { SCENARIOS } from "../../simulator/scenarios/expected-outcomes";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { findPostgresBin, startLabPostgres, PostgresUnavailable } from "../../simulator/runtime/lab-postgres";
import { testLab } from "../helpers/lab";
import { tempDir } from "../helpers/config";

/**
 * The UMS HA cluster topology on loopback: two UMS servers on the lab's PostgreSQL behind the
 * emulated ALB; one is killed, its devices come back through the ALB on the other, and every
 * command queued before and during the failure runs exactly once.
 */

const haveBuild = fs.existsSync(path.join(__dirname, "../../dist/simulator/ums/main.js"));
const runnable = findPostgresBin() !== undefined && haveBuild;

test("PostgreSQL missing: a clear reason and the fix (the HA topologies are skipped with it)", async () => {
  const dir = tempDir("ums-edge-nopg-");
  const error = await startLabPostgres(path.join(dir, "pg"), { pgRoot: path.join(dir, "no-postgres-here") }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PostgresUnavailable);
  expect((error as Error).message).toBe(
    `PostgreSQL is not installed (no ${path.join(dir, "no-postgres-here")}/<version>/bin/initdb): the HA topologies need it for the database the UMS servers share\n  fix: bash scripts/ensure-system-tools.sh (installs Debian's postgresql)`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

const asRoot = process.getuid?.() === 0 && findPostgresBin() !== undefined;
(asRoot ? test : test.skip)(`PostgreSQL not startable (its user cannot reach the lab directory): the step, the user and the fix${asRoot ? "" : " (skipped: needs root and PostgreSQL)"}`, async () => {
  const dir = tempDir("ums-edge-pg-private-"); // 0700, owned by root: the postgres user cannot enter it
  const error = await startLabPostgres(path.join(dir, "pg")).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PostgresUnavailable);
  expect((error as Error).message).toMatch(/^PostgreSQL \d+ did not start \(initdb as user '(postgres|nobody)'\): .+\n {2}fix: the server user needs to reach /);
  expect(fs.existsSync(path.join(dir, "pg"))).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
});

(runnable ? describe : describe.skip)(`alb-verify-ha on loopback${runnable ? "" : " (skipped: needs PostgreSQL and npm run build)"}`, () => {
  let run: TopologyRun;
  beforeAll(async () => {
    const lab = await testLab("lab-ha");
    const scenarios = SCENARIOS.filter((s) => ["health", "onboarding", "management-session", "command-settings", "ums-failover"].includes(s.id));
    run = await runTopology("alb-verify-ha", new LoopbackRuntime(), lab, { devices: 4, scenarios });
  }, 180_000);

  test("the cluster serves as alb-verify does", () => {
    for (const id of ["health", "onboarding", "management-session", "command-settings"]) {
      expect(run.cells.find((c) => c.scenario === id)).toMatchObject({ verdict: "pass" });
    }
  });

  test("one server killed: target unhealthy, devices back within the bound, every command exactly once", () => {
    const cell = run.cells.find((c) => c.scenario === "ums-failover")!;
    expect(cell).toMatchObject({ verdict: "pass", actual: "ok" });
    const detail = String(cell.evidence.detail);
    const [, unhealthyMs, expectedMs] = /its target unhealthy after (\d+) ms \(.*: (\d+) ms\)/.exec(detail)!.map(Number);
    // The health checks' own time, never sooner than one check less (the first check may come right after the kill).
    expect(unhealthyMs).toBeGreaterThanOrEqual(expectedMs / 2);
    const [, backMs, boundMs] = /every device back in (\d+) ms \(bound (\d+) ms\)/.exec(detail)!.map(Number);
    expect(backMs).toBeLessThanOrEqual(boundMs);
    const [, total, success, once] = /(\d+) commands .*: (\d+) SUCCESS, (\d+) executed exactly once/.exec(detail)!.map(Number);
    expect(total).toBe(12);
    expect([success, once]).toEqual([total, total]);
  });
});
