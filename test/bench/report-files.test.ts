import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeBenchPage, writeBenchReport } from "../../scripts/bench/report-files";
import { renderBenchHtml } from "../../scripts/bench/bench-html";

/** reports/bench/<bench>.json and bench.html, written where the run says. */

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-bench-report-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a bench's JSON holds its name, time, size and figures; its details cannot overwrite them", () => {
  const reports = path.join(dir, "reports", "bench");
  const figures = [{ name: "all stacks, wall time", value: 380, unit: "ms", max: 1000 }];
  const file = writeBenchReport(reports, "synth", true, figures, { runs: [{ wallMs: 380 }], bench: "not-synth", quick: false }, new Date("2025-01-02T03:04:05Z"));
  expect(file).toBe(path.join(reports, "synth.json"));
  expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ bench: "synth", measuredAt: "2025-01-02T03:04:05.000Z", quick: true, figures, runs: [{ wallMs: 380 }] });
});

test("the page shows a quick run's scale target as n/a and its ordering's verdict", () => {
  const html = renderBenchHtml({
    generatedAt: "now",
    machine: "2 cores",
    quick: true,
    targets: [{ name: "icg > reverse-proxy", measured: "icg 7 ms, reverse-proxy 4 ms", target: "icg > reverse-proxy", verdict: "met" }],
    sections: [
      {
        id: "fleet-scale",
        title: "Fleets <at scale>",
        figures: [
          { name: "alb-verify total", value: 25, unit: "s", max: 20 },
          { name: "icg - reverse-proxy", value: -1, unit: "ms", min: 0.01, kind: "ordering" },
        ],
      },
    ],
  });
  const file = writeBenchPage(dir, html);
  const page = fs.readFileSync(file, "utf8");
  expect(path.basename(file)).toBe("bench.html");
  expect(page).toContain("ums-edge benchmarks (quick run)");
  expect(page).toContain("Fleets &lt;at scale&gt;");
  expect(page).toMatch(/alb-verify total<\/td><td>25 s<\/td><td>&lt;= 20 s<\/td><td class="verdict na">n\/a</);
  expect(page).toMatch(/icg - reverse-proxy<\/td><td>-1 ms<\/td><td>&gt;= 0.01 ms<\/td><td class="verdict fail">MISSED</);
});
