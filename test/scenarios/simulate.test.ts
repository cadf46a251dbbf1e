import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { simulate, SimulateResult } from "../../simulator/scenarios/simulate";
import { SCENARIOS } from "../../simulator/scenarios/expected-outcomes";
import { TOPOLOGIES } from "../../simulator/runtime/topologies/definitions";
import { projectRoot } from "../../core/project-root";
import { tempDir } from "../helpers/config";
import { chromiumPath, renderInChromium } from "../helpers/chromium";

/**
 * `ums-edge simulate` end to end on the loopback runtime with a small fleet: every applicable cell
 * of the expected-outcomes table must hold, and the report must say so.
 */

let result: SimulateResult;
const reportDir = tempDir("ums-edge-report-");

beforeAll(async () => {
  result = await simulate({
    topologies: TOPOLOGIES,
    devices: 3,
    reportDir,
    labDir: path.join(tempDir("ums-edge-sim-"), "lab"),
    runtime: "loopback",
    out: fs.createWriteStream("/dev/null") as unknown as NodeJS.WriteStream,
  });
}, 600_000);

test("every topology meets every applicable expectation (no mismatch)", () => {
  const mismatches = result.report.cells.filter((c) => c.verdict === "fail").map((c) => `${c.topology}/${c.scenario}: expected ${c.expected}, got ${c.actual}`);
  expect(mismatches).toEqual([]);
  expect(result.report.summary.pass).toBeGreaterThan(TOPOLOGIES.length * 10);
});

test("only what the loopback runtime cannot check is skipped, and the note says why", () => {
  const skipped = result.report.cells.filter((c) => c.verdict === "skipped");
  expect(new Set(skipped.map((c) => c.scenario))).toEqual(new Set(["bypass-front"]));
  for (const c of skipped) expect(c.note).toMatch(/loopback runtime/);
});

test("the table has one cell per scenario and topology; n/a cells only where the table says n/a", () => {
  expect(result.report.cells).toHaveLength(SCENARIOS.length * TOPOLOGIES.length);
  for (const c of result.report.cells) {
    const spec = SCENARIOS.find((s) => s.id === c.scenario)!;
    expect([c.topology, c.scenario, c.verdict === "n/a"]).toEqual([c.topology, c.scenario, (spec.expected[c.topology as (typeof TOPOLOGIES)[number]] ?? spec.otherwise).kind === "n/a"]);
  }
});

test("refusals carry evidence: the ALB's connection-log code, the UMS's reason", () => {
  const cell = (t: string, s: string) => result.report.cells.find((c) => c.topology === t && c.scenario === s)!;
  expect(cell("alb-verify", "cert-revoked").evidence.connectionLog).toBe("Failed:ClientCertCrlHit");
  expect(cell("alb-verify", "cert-revoked").evidence.logLine).toMatch(/ Failed:ClientCertCrlHit /);
  expect(cell("alb-passthrough", "cert-expired").evidence.reason).toMatch(/expired/);
  // The UMS names the header it was told to read, and what the requests carried instead.
  expect(cell("alb-verify", "ums-wrong-header").evidence.reason).toMatch(/^no client certificate in header X-Amzn-Mtls-Clientcert \(forwarding enabled in application\.yml\); requests carried: .*x-amzn-mtls-clientcert-leaf/);
});

test("latency per topology: every device's onboarding and every command's round trip", () => {
  for (const t of result.report.topologies) {
    expect([t.name, t.onboarding.count]).toEqual([t.name, 3]);
    expect([t.name, t.commandRoundTrip.count]).toEqual([t.name, 6]);
    expect(t.commandRoundTrip.p50).toBeGreaterThan(0);
    expect(t.commandRoundTrip.p99).toBeGreaterThanOrEqual(t.commandRoundTrip.p50!);
  }
});

test("report.json holds the report; report.html is one self-contained file", () => {
  expect(JSON.parse(fs.readFileSync(result.files.json, "utf8"))).toEqual(JSON.parse(JSON.stringify(result.report)));
  const html = fs.readFileSync(result.files.html, "utf8");
  expect(html).not.toMatch(/<script|<link |src="http/);
});

const chromium = chromiumPath();
(chromium ? test : test.skip)(
  chromium ? "report.html renders in headless Chromium: the table, both charts, the assumptions" : "report.html renders in headless Chromium (skipped: Chromium is not installed; scripts/ensure-system-tools.sh installs it)",
  async () => {
    const page = await renderInChromium(chromium!, result.files.html, path.join(reportDir, "report.png"));
    expect(page.rows).toBe(SCENARIOS.length);
    expect(page.columns).toBe(TOPOLOGIES.length + 1);
    expect(page.failCells).toBe(0);
    expect(page.charts).toBe(2);
    expect(page.bars).toBe(2 * 3 * TOPOLOGIES.length);
    expect(page.assumptions).toBeGreaterThan(5);
    expect(page.chartWidth).toBeGreaterThan(300);
    expect(fs.statSync(path.join(reportDir, "report.png")).size).toBeGreaterThan(10_000);
  },
  60_000,
);

test("the command refuses bad input with exit code 2 before simulating", () => {
  const bin = path.join(projectRoot(), "dist", "cli", "index.js");
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, "simulate", ...args], { encoding: "utf8", timeout: 30_000 });
  const unknown = run("--topology", "alb-nlb");
  expect([unknown.status, unknown.stderr]).toEqual([2, expect.stringContaining("--topology: unknown topology 'alb-nlb'")]);
  const file = path.join(reportDir, "a-file");
  fs.writeFileSync(file, "");
  const unwritable = run("--topology", "direct", "--report", path.join(file, "reports"));
  expect([unwritable.status, unwritable.stderr]).toEqual([2, expect.stringContaining(`--report ${path.join(file, "reports")}: cannot write there (ENOTDIR)`)]);
  const proc = run("--topology", "direct", "--report", "/proc/ums-edge-report");
  expect([proc.status, proc.stderr]).toEqual([2, expect.stringContaining("--report /proc/ums-edge-report: cannot write there (ENOENT)")]);
  expect(run("--devices", "0").status).toBe(2);
});
