import * as fs from "node:fs";
import * as path from "node:path";
import { LISTENER_RULE_LIMITS, TRAVERSAL_DENY_PATTERNS, TRAVERSAL_DENY_REGEX, groupPatterns } from "../../stacks/path-allow-list";
import { ALLOWED_PATH_PATTERNS } from "../../core/igel";
import { synthesize } from "../../stacks/app";
import { loadTestConfig, tempDir } from "../helpers/config";
import { testLabPki } from "../helpers/lab-pki";

/**
 * The deny rules ahead of the allow-list catch every traversal spelling the probe found (issue 14)
 * and leave IGEL's own paths alone, and every rule the stacks write stays inside AWS's limits.
 * Rules are evaluated as AWS documents them: path patterns with `*` and `?`, case-sensitive, on the
 * path only; regular expressions as written (no feature AWS excludes is used).
 */

const wildcard = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
const denied = (p: string) => TRAVERSAL_DENY_PATTERNS.some((w) => wildcard(w).test(p)) || TRAVERSAL_DENY_REGEX.some((r) => new RegExp(r).test(p));
const allowed = (p: string) => ALLOWED_PATH_PATTERNS.some((w) => wildcard(w).test(p));

const PREFIXES = ["/device-connector/", "/ums-appproxy/", "/wums-app/", "/webapp/"];
const SPELLINGS = ["../", "%2e%2e/", "%2E%2E/", ".%2e/", "%2e./", "..\\", "..%5c", "..%5C", "%2e%2e%5c", "..;/", "..%2f", "%252e%252e/", "%c0%ae%c0%ae/", ".%2E/", "./../", "%2e%2e%2f"];

test.each(PREFIXES.flatMap((prefix) => SPELLINGS.map((s) => `${prefix}${s}umsapi/v3/serverstatus`)))("denies %s before the allow-list", (p) => {
  expect(allowed(p)).toBe(true); // what made it dangerous: the allow-list alone forwards it
  expect(denied(p)).toBe(true);
});

test.each([
  "/device-connector/v1/onboard",
  "/device-connector/v1/ws",
  "/ums-appproxy/v1/apps/chromium/12.01.100",
  "/ums-appproxy/v1/apps/my_app-name/1.2.3-rc.1",
  "/wums-app/",
  "/webapp/index.html",
  "/webapp/static/main.3f2a9c.js",
  "/webapp/a%20b",
])("forwards IGEL's own path %s", (p) => {
  expect(denied(p)).toBe(false);
  expect(allowed(p)).toBe(true);
});

test("the allow-list splits into rules of at most three values per condition and five wildcards per rule", () => {
  expect(groupPatterns(ALLOWED_PATH_PATTERNS)).toEqual([["/device-connector/*", "/ums-appproxy/*", "/wums-app/*"], ["/webapp/*"]]);
  expect(groupPatterns(["/a/**", "/b/**", "/c/**"])).toEqual([["/a/**", "/b/**"], ["/c/**"]]);
});

describe("every listener rule of every synthesized stack stays within AWS's limits", () => {
  let out: string;
  beforeAll(async () => {
    await testLabPki();
    out = tempDir();
    synthesize(await loadTestConfig({ stacks: [{ variant: "ums-alb-verify", listeners: { admin: { port: 9443, mtls: "verify" } } }, { variant: "ums-alb-passthrough" }, { variant: "icg-alb-verify", pathAllowList: true }] }), out);
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test.each(["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify"])("%s", (stack) => {
    const json = JSON.parse(fs.readFileSync(path.join(out, "stacks", stack, "cdk.tf.json"), "utf8"));
    type Condition = { path_pattern?: { values?: string[]; regex_values?: string[] }; http_header?: { values: string[] } };
    const rules = Object.values(json.resource.aws_lb_listener_rule as Record<string, { condition: Condition[] }>);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.length).toBeLessThanOrEqual(LISTENER_RULE_LIMITS.rulesPerLoadBalancer);
    for (const r of rules) {
      const values = r.condition.flatMap((c) => [...(c.path_pattern?.values ?? []), ...(c.path_pattern?.regex_values ?? []), ...(c.http_header?.values ?? [])]);
      expect(r.condition).toHaveLength(1);
      expect(values.length).toBeLessThanOrEqual(LISTENER_RULE_LIMITS.valuesPerCondition);
      for (const c of r.condition) {
        for (const v of c.path_pattern?.values ?? []) expect(v).toMatch(/^[A-Za-z0-9_\-.$/~"'@:+&*?]{1,128}$/);
        expect(values.join("").replace(/[^*?]/g, "").length).toBeLessThanOrEqual(LISTENER_RULE_LIMITS.wildcardsPerRule);
        for (const v of c.path_pattern?.regex_values ?? []) {
          expect(v.length).toBeLessThanOrEqual(LISTENER_RULE_LIMITS.valueLength);
          // AWS's regular expressions have no lookarounds, backreferences, atomic groups, possessive quantifiers or \\p classes.
          expect(v).not.toMatch(/\(\?[=!<>]|\\[1-9kpP]|\(\?>|[*+?}]\+/);
          expect(v).not.toContain("%{"); // a Terraform template directive inside a JSON string
        }
      }
    }
  });
});
