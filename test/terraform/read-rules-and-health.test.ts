import * as fs from "node:fs";
import { readStack } from "../../simulator/terraform";
import { ProblemsError } from "../../core/errors";
import { testLabPki } from "../helpers/lab-pki";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "../alb/helpers/stacks";

/**
 * What the stack reader makes of health-check blocks that leave settings out (Terraform's schema
 * defaults inside a block, AWS's without one), of regular-expression path conditions and of rule
 * transforms (AWS provider 6.22+), with problems named by resource and attribute.
 */

let synth: SynthesizedStacks;
const dirs: string[] = [];

beforeAll(async () => {
  await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }]);
});

afterAll(() => {
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function edited(edit: (json: Record<string, any>) => void): string {
  const dir = editedStack(synth.stacks["icg-alb-verify"], edit);
  dirs.push(dir);
  return dir;
}

const group = (json: Record<string, any>) => Object.values(json.resource.aws_lb_target_group)[0] as Record<string, any>;

test("a health_check block without thresholds: Terraform's defaults (3 and 3), AWS's timeout, path and matcher", () => {
  const dir = edited((json) => (group(json).health_check = { enabled: true, protocol: "HTTPS", path: "/usg/check-status" }));
  const hc = [...readStack(dir).targetGroups.values()][0].healthCheck;
  expect(hc).toMatchObject({ healthyThreshold: 3, unhealthyThreshold: 3, intervalSeconds: 30, timeoutSeconds: 5, matcher: "200", path: "/usg/check-status" });
});

test("no health_check block at all: AWS's defaults (healthy 5, unhealthy 2, path /)", () => {
  const dir = edited((json) => delete group(json).health_check);
  const hc = [...readStack(dir).targetGroups.values()][0].healthCheck;
  expect(hc).toMatchObject({ enabled: true, healthyThreshold: 5, unhealthyThreshold: 2, intervalSeconds: 30, timeoutSeconds: 5, path: "/", protocol: "HTTP" });
});

test("regex_values and transform blocks are read into the rule", () => {
  const dir = edited((json) => {
    const listener = Object.keys(json.resource.aws_lb_listener)[0];
    const tg = Object.keys(json.resource.aws_lb_target_group)[0];
    json.resource.aws_lb_listener_rule = {
      deny: { listener_arn: `\${aws_lb_listener.${listener}.arn}`, priority: 1, condition: [{ path_pattern: { regex_values: ["%2[eE]"] } }], action: [{ type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: "400" } }] },
      rewrite: {
        listener_arn: `\${aws_lb_listener.${listener}.arn}`,
        priority: 2,
        condition: [{ path_pattern: { values: ["/old/*"] } }],
        action: [{ type: "forward", target_group_arn: `\${aws_lb_target_group.${tg}.arn}` }],
        transform: [{ type: "url-rewrite", url_rewrite_config: { rewrite: { regex: "^/old/(.*)$", replace: "/$1" } } }],
      },
    };
  });
  const rules = readStack(dir).listeners.flatMap((l) => l.rules);
  expect(rules.map((r) => [r.priority, r.conditions, r.transforms])).toEqual([
    [1, [{ kind: "path-pattern", values: [], regexValues: ["%2[eE]"] }], undefined],
    [2, [{ kind: "path-pattern", values: ["/old/*"] }], [{ kind: "url-rewrite", regex: "^/old/(.*)$", replace: "/$1" }]],
  ]);
});

test("a regular expression that does not compile and an unknown transform type are named by resource and attribute", () => {
  const dir = edited((json) => {
    const listener = Object.keys(json.resource.aws_lb_listener)[0];
    const fixed = [{ type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: "400" } }];
    json.resource.aws_lb_listener_rule = {
      broken: { listener_arn: `\${aws_lb_listener.${listener}.arn}`, priority: 1, condition: [{ path_pattern: { regex_values: ["(unclosed"] } }], action: fixed },
      odd: { listener_arn: `\${aws_lb_listener.${listener}.arn}`, priority: 2, condition: [{ path_pattern: { values: ["/x"] } }], action: fixed, transform: [{ type: "body-rewrite" }] },
    };
  });
  let problems: string[] = [];
  try {
    readStack(dir);
  } catch (e) {
    problems = (e as ProblemsError).problems.map((p) => `${p.field}: ${p.problem}`);
  }
  expect(problems).toEqual([
    expect.stringMatching(/^aws_lb_listener_rule\.broken\.condition\[0\]\.path_pattern\.regex_values: '\(unclosed' is not a regular expression/),
    expect.stringMatching(/^aws_lb_listener_rule\.odd\.transform\[0\]\.type: 'body-rewrite' is not a transform type/),
  ]);
});
