import * as os from "node:os";
import * as path from "node:path";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { runProbe } from "../../scripts/probe/run-probe";
import { CATEGORIES, CategoryResult } from "../../scripts/probe/probe-model";
import { nginxUnavailableReason } from "../proxy/nginx-available";

/**
 * A small run of the probe (`npm run probe`, scripts/probe): every category, fewer inputs, on
 * topologies whose answers to traversal do not wait on the stacks' deny rules (nginx refuses them
 * itself; the ICG resolves them and has no route there): nothing let through, nothing crashed, no
 * 5xx the documentation does not explain. The ALB's rules against the same shapes are covered by
 * test/alb/rules.test.ts with the stacks' deny rules.
 */

const topologies: TopologyName[] = nginxUnavailableReason() ? ["icg-alb-passthrough"] : ["icg-alb-passthrough", "reverse-proxy"];

let results: CategoryResult[];

beforeAll(async () => {
  results = await runProbe({ topologies, runtime: new LoopbackRuntime(), labDir: path.join(os.tmpdir(), "ums-edge-test", `probe-w${process.env.JEST_WORKER_ID ?? "0"}`), quick: true });
}, 180_000);

test.each(topologies)("%s: every category ran, with nothing let through, crashed or answered with an unexplained 5xx", (topology) => {
  const mine = results.filter((r) => r.topology === topology);
  expect(mine.map((r) => r.category)).toEqual([...CATEGORIES]);
  for (const r of mine) {
    expect(r.inputs).toBeGreaterThan(0);
    expect({ category: r.category, crashed: r.crashed, letThrough: r.letThrough, unexplained5xx: r.unexplained5xx, findings: r.findings }).toEqual({ category: r.category, crashed: [], letThrough: 0, unexplained5xx: 0, findings: [] });
  }
});

test("the probe's attacks reach the components: the ALB's and the backends' own refusals are among the answers", () => {
  const answeredBy = [...new Set(results.flatMap((r) => r.attempts.map((a) => a.by)).filter(Boolean))];
  expect(answeredBy).toEqual(expect.arrayContaining(topologies.includes("reverse-proxy") ? ["alb", "icg", "nginx", "ums"] : ["alb", "icg", "ums"]));
  const admin = results.find((r) => r.topology === "icg-alb-passthrough" && r.category === "admin API abuse")!;
  expect(admin.attempts.at(-1)).toMatchObject({ status: 429, letThrough: false }); // the right password after the wrong ones: locked out
});
