import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { lintAppConfig } from "../../simulator/lint/lint-app-config";
import { UserError } from "../../core/errors";
import { projectRoot } from "../../core/project-root";
import type { Lab } from "../../simulator/runtime/lab";
import { testLab } from "../helpers/lab";
import { tempDir } from "../helpers/config";

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await testLab();
  dir = tempDir("ums-edge-lint-");
});

function yml(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const forwarding = (header: string, encoding = "    encodingType: URL_AWS\n") => `igel:\n  client-cert-forwarding:\n    enabled: true\n${encoding}    client-cert-forwarded-header: ${header}\n`;
const statusOf = (findings: ReturnType<typeof lintAppConfig>, check: string) => findings.find((f) => f.check === check)?.status;

test("the application.yml a stack outputs passes lint against that stack", () => {
  for (const variant of ["ums-alb-verify", "ums-alb-passthrough"] as const) {
    const findings = lintAppConfig(lab.stackDir(variant), lab.appConfigFile("stack", variant));
    expect(findings.filter((f) => f.status === "fail")).toEqual([]);
    expect(statusOf(findings, "forwarded header")).toBe("pass");
    expect(findings.find((f) => f.check === "cluster address")?.detail).toContain("ums.lab.test:8443");
  }
});

test("the passthrough header behind a verify listener fails and names the header to use", () => {
  const findings = lintAppConfig(lab.stackDir("ums-alb-verify"), lab.appConfigFile("wrong-header-verify"));
  expect(findings.find((f) => f.check === "forwarded header")).toEqual({
    check: "forwarded header",
    status: "fail",
    detail: "'X-Amzn-Mtls-Clientcert' is the passthrough header; a verify listener sends 'X-Amzn-Mtls-Clientcert-Leaf' (the leaf only). Set client-cert-forwarded-header to it.",
  });
  expect(findings.find((f) => f.check === "enrollment address")?.detail).toContain("ums.lab.test:443");
});

test("forwarding without URL_AWS fails (and the loader's warning is shown)", () => {
  const findings = lintAppConfig(lab.stackDir("ums-alb-passthrough"), lab.appConfigFile("no-url-aws-passthrough"));
  expect(statusOf(findings, "encodingType")).toBe("fail");
  expect(findings.some((f) => f.status === "warn" && f.detail.includes("URL_AWS"))).toBe(true);
});

test("forwarding off behind an ALB fails; forwarding on without an ALB fails", () => {
  expect(statusOf(lintAppConfig(lab.stackDir("ums-alb-verify"), lab.appConfigFile("no-forwarding")), "forwarding")).toBe("fail");
  expect(statusOf(lintAppConfig(lab.stackDir("ums-direct"), lab.appConfigFile("stack", "ums-alb-verify")), "forwarding")).toBe("fail");
  expect(statusOf(lintAppConfig(lab.stackDir("ums-direct"), lab.appConfigFile("no-forwarding")), "forwarding")).toBe("pass");
});

test("a header the stack does not send is named, with the one it sends", () => {
  const findings = lintAppConfig(lab.stackDir("ums-alb-verify"), yml("other.yml", forwarding("X-Client-Cert")));
  expect(findings.find((f) => f.check === "forwarded header")?.detail).toBe(
    "'X-Client-Cert' is not sent by this stack's verify listener, which sends 'X-Amzn-Mtls-Clientcert-Leaf'. Set client-cert-forwarded-header to it.",
  );
});

test("settings the UMS would refuse become failing findings", () => {
  const findings = lintAppConfig(lab.stackDir("ums-alb-verify"), yml("typo.yml", "igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingTyp: URL_AWS\n"));
  expect(findings.filter((f) => f.status === "fail").map((f) => f.detail).join("\n")).toMatch(/encodingTyp.*unknown field.*did you mean 'encodingType'/s);
});

test("bad input: a file that is not YAML, a directory without a stack", () => {
  expect(() => lintAppConfig(lab.stackDir("ums-alb-verify"), yml("bad.yml", "igel: [unclosed\n"))).toThrow(UserError);
  expect(() => lintAppConfig(dir, lab.appConfigFile("stack", "ums-alb-verify"))).toThrow(/there is no cdk\.tf\.json in this directory/);
});

test("the lint command exits 1 on a failing finding, 0 when clean, 2 on bad input", () => {
  const bin = path.join(projectRoot(), "dist", "cli", "index.js");
  const run = (appConfig: string) => spawnSync(process.execPath, [bin, "lint", "--stack", lab.stackDir("ums-alb-verify"), "--app-config", appConfig], { encoding: "utf8" });
  expect(run(lab.appConfigFile("stack", "ums-alb-verify")).status).toBe(0);
  const wrong = run(lab.appConfigFile("wrong-header-verify"));
  expect(wrong.status).toBe(1);
  expect(wrong.stdout).toMatch(/forwarded header\s+FAIL/);
  const bad = run(yml("bad2.yml", "igel: [unclosed\n"));
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^ums-edge: --app-config .*bad2\.yml: not YAML: /);
});

describe("--heartbeat-seconds against the stack's idle_timeout (the rule synth applies to devices.heartbeatSeconds)", () => {
  const idleFinding = (heartbeatSeconds?: number) => lintAppConfig(lab.stackDir("ums-alb-verify"), lab.appConfigFile("stack", "ums-alb-verify"), { heartbeatSeconds }).find((f) => f.check === "idle timeout");

  test("warns, naming the stack, the setting and the fix, when the idle timeout is not above the heartbeat", () => {
    expect(idleFinding(90)).toEqual({
      check: "idle timeout",
      status: "warn",
      detail:
        "the 'ums-alb-verify' load balancer (aws_lb idle_timeout) closes connections idle for 60 s, but --heartbeat-seconds is 90: every quiet device WebSocket is cut and re-established about every 90 s. " +
        "Fix: set loadBalancer.idleTimeoutSeconds of this stack in the config (aws_lb idle_timeout) above 90 (e.g. 180).",
    });
    expect(idleFinding(60)?.status).toBe("warn");
  });

  test("passes below the idle timeout, and without a stated heartbeat only says what to give", () => {
    expect(idleFinding(30)?.status).toBe("pass");
    expect(idleFinding(undefined)).toMatchObject({ status: "info", detail: expect.stringContaining("give --heartbeat-seconds") });
    expect(lintAppConfig(lab.stackDir("ums-direct"), lab.appConfigFile("no-forwarding"), { heartbeatSeconds: 90 }).find((f) => f.check === "idle timeout")).toBeUndefined();
  });

  test("a heartbeat that is not a number of seconds is refused by the command with the flag and the fix", () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot(), "dist/cli/index.js"), "lint", "--stack", lab.stackDir("ums-alb-verify"), "--app-config", lab.appConfigFile("stack", "ums-alb-verify"), "--heartbeat-seconds", "90s"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--heartbeat-seconds: '90s' is not a whole number of seconds from 1 to 86400");
    expect(r.stderr).toContain("fix: give the interval your devices heartbeat at");
  });
});
