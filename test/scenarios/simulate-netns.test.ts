import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { simulate, SimulateResult } from "../../simulator/scenarios/simulate";
import { netnsAvailability, existingNamespaces } from "../../simulator/runtime/netns/preflight";
import { tempDir } from "../helpers/config";
import { acquireHostRouteLock } from "../../simulator/runtime/netns/host-route-lock";

// One namespace lab at a time across jest workers (simulator/runtime/netns/host-route-lock.ts: the lock its labs take, re-entrant, held by the suite so its checks of the host see no other suite's lab).
let releaseNetns: (() => void) | undefined;
beforeAll(async () => {
  releaseNetns = await acquireHostRouteLock();
}, 610_000);
afterAll(() => releaseNetns?.());

/**
 * The simulation on the namespace runtime: the same table, plus the one row only isolation can
 * prove — a device cannot reach the UMS past the front — and nothing left behind afterwards.
 */
const availability = netnsAvailability();
const describeIfNetns = availability.ok ? describe : describe.skip;
const title = availability.ok ? "simulate on network namespaces" : `simulate on network namespaces (skipped: ${availability.reason})`;

describeIfNetns(title, () => {
  let result: SimulateResult;
  beforeAll(async () => {
    result = await simulate({
      topologies: ["reverse-proxy", "icg", "alb-verify", "alb-passthrough"],
      devices: 2,
      reportDir: tempDir("ums-edge-report-"),
      labDir: path.join(tempDir("ums-edge-sim-"), "lab"),
      runtime: "netns",
      out: fs.createWriteStream("/dev/null") as unknown as NodeJS.WriteStream,
    });
  }, 300_000);

  test("no mismatch and nothing skipped", () => {
    expect(result.report.cells.filter((c) => c.verdict === "fail" || c.verdict === "skipped").map((c) => `${c.topology}/${c.scenario}: ${c.actual}`)).toEqual([]);
    expect(result.report.runtime).toMatch(/^netns: Linux network namespaces/);
  });

  test("a device cannot open a connection to the UMS in any topology with a front", () => {
    const bypass = result.report.cells.filter((c) => c.scenario === "bypass-front");
    expect(bypass.map((c) => [c.topology, c.actual])).toEqual([
      ["reverse-proxy", "blocked: no connection"],
      ["icg", "blocked: no connection"],
      ["alb-verify", "blocked: no connection"],
      ["alb-passthrough", "blocked: no connection"],
    ]);
    for (const c of bypass) expect(c.evidence.detail).toMatch(/TCP connect from the internet side to the UMS at 10\.201\.2\.2:\d+: timeout/);
  });

  test("every namespace and the host link are gone afterwards", () => {
    expect(existingNamespaces().filter((n) => n.startsWith(`ums-edge-${process.pid}-`))).toEqual([]);
    // The host link is the only interface a lab puts in this namespace (named ue-<lab id>).
    const links = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
    expect(links.split("\n").filter((l) => / ue-[0-9a-f]+[@:]/.test(l))).toEqual([]);
  });
});
