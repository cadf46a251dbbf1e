import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import { MockUms, StartedMockUms } from "../../simulator/ums";
import { pathOf } from "../../simulator/alb/rules";
import { traversalTargets } from "../../simulator/scenarios/traversal-shapes";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { logLines, request } from "./helpers/client";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";

/**
 * Listener rules as the emulated ALB evaluates whatever the stack holds (AWS, "Listener rules" /
 * "Condition types" / "Transforms for listener rules"): priorities, several conditions, wildcard
 * values, regular-expression path conditions and rule transforms; the path matched as sent
 * (no normalisation AWS documents), so traversal spellings pass a prefix allow-list unless deny
 * rules ahead of it refuse them, as the stacks' deny rules do (built here in their synthesized shape).
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let ums: StartedMockUms;
let echo: EchoTarget;
const started: StartedAlbEmulator[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }, { variant: "icg-alb-verify" }]);
  ums = await new MockUms({ pki, port: 0 }).start();
  echo = await startEchoTarget(pki);
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await ums?.stop();
  await echo?.close();
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Json = Record<string, any>;

/** Adds a listener rule (synthesized shape) to every listener of the stack. */
function addRules(json: Json, rules: ReadonlyArray<{ name: string; priority: number; condition: Json[]; action: Json[]; transform?: Json[] }>): void {
  for (const listener of Object.keys(json.resource.aws_lb_listener)) {
    for (const r of rules) {
      json.resource.aws_lb_listener_rule[`${r.name}-${listener}`] = { listener_arn: `\${aws_lb_listener.${listener}.arn}`, priority: r.priority, condition: r.condition, action: r.action, ...(r.transform ? { transform: r.transform } : {}) };
    }
  }
}

/** The stack without its traversal deny rules (stacks/path-allow-list.ts): what issue 14 probed. */
function withoutDenyRules(json: Json): void {
  for (const name of Object.keys(json.resource.aws_lb_listener_rule)) if (/deny-(dot-segments|encoded-traversal)/.test(name)) delete json.resource.aws_lb_listener_rule[name];
}

async function start(stackDir: string, target: string, logsDir?: string): Promise<StartedAlbEmulator> {
  dirs.push(stackDir);
  const a = await new AlbEmulator({ stackDir, target, ports: { 8443: 0, 443: 0 }, logsDir }).start();
  started.push(a);
  return a;
}

const reachedImi = (body: string) => body.includes("rmGuiServerVersion");

/** A GET with the path exactly as given (a URL string would be normalised by the client: dot segments, backslashes). */
function rawGet(base: string, rawPath: string, cert?: { key: string; chain: string }): Promise<{ status: number; reason?: string; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: rawPath, rejectUnauthorized: false, agent: false, ...(cert ? { key: fs.readFileSync(cert.key), cert: fs.readFileSync(cert.chain) } : {}) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, reason: res.headers["x-alb-emulator-reason"] as string | undefined, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("the rule path is the path as sent: the query is left out, an absolute target's path is used", () => {
  expect(pathOf("/device-connector/../umsapi/x?y=1")).toBe("/device-connector/../umsapi/x");
  expect(pathOf("https://host:443/webapp/?x")).toBe("/webapp/");
  expect(pathOf("https://host")).toBe("/");
});

test("without deny rules, a prefix allow-list lets traversal spellings through to a servlet-style UMS (what issue 14 found)", async () => {
  const alb = await start(editedStack(synth.stacks["ums-alb-verify"], withoutDenyRules), `127.0.0.1:${ums.port}`);
  const r = await rawGet(alb.listenerUrl(443), "/device-connector/%2e%2e/umsapi/v3/serverstatus");
  expect(r.status).toBe(200);
  expect(reachedImi(r.body)).toBe(true);
});

test("with the stacks' deny rules ahead of the allow-list (as synthesized), no traversal shape reaches /umsapi/ on either listener", async () => {
  const alb = await start(editedStack(synth.stacks["ums-alb-verify"], () => undefined), `127.0.0.1:${ums.port}`);
  const shapes = traversalTargets();
  for (const [port, cert] of [[443, undefined], [8443, pki.devices.good]] as const) {
    const answers = await Promise.all(shapes.map((s) => rawGet(alb.listenerUrl(port), s, cert)));
    expect(shapes.filter((_, i) => reachedImi(answers[i].body))).toEqual([]);
    // Each answered by a deny rule's fixed 400 (the reason names the rule).
    expect(shapes.filter((_, i) => !(answers[i].status === 400 && /^rule aws_lb_listener_rule\.\S*deny-(dot-segments|encoded-traversal)/.test(answers[i].reason ?? "")))).toEqual([]);
  }
  // The allow-list still works for what devices need.
  expect((await request(`${alb.listenerUrl(443)}/wums-app/`)).status).toBe(200);
});

test("priorities, several conditions, wildcards, an unanchored regular expression, and transforms", async () => {
  const logsDir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-rules-"));
  dirs.push(logsDir);
  const stack = editedStack(synth.stacks["icg-alb-verify"], (json) => {
    json.resource.aws_lb_listener_rule ??= {};
    const tg = Object.keys(json.resource.aws_lb_target_group)[0];
    const forward = [{ type: "forward", target_group_arn: `\${aws_lb_target_group.${tg}.arn}` }];
    const fixed = (code: string) => [{ type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: code, message_body: code } }];
    addRules(json, [
      // Both conditions must hold: a POST to /a?/*.
      { name: "post-a", priority: 5, condition: [{ path_pattern: { values: ["/a?/*"] } }, { http_request_method: { values: ["POST"] } }], action: fixed("418") },
      { name: "regex", priority: 6, condition: [{ path_pattern: { regex_values: ["secret"] } }], action: fixed("403") },
      {
        name: "rewrite",
        priority: 7,
        condition: [{ path_pattern: { values: ["/old/*"] } }],
        action: forward,
        transform: [
          { type: "url-rewrite", url_rewrite_config: { rewrite: { regex: "^/old/(.*)$", replace: "/new/$1" } } },
          { type: "host-header-rewrite", host_header_rewrite_config: { rewrite: { regex: "^(.*)\\.lab\\.test$", replace: "$1.internal" } } },
        ],
      },
    ]);
  });
  const alb = await start(stack, echo.address, logsDir);
  const base = alb.listenerUrl(443);
  expect((await request(`${base}/ab/x`, { method: "POST" })).status).toBe(418);
  expect((await request(`${base}/ab/x`)).status).toBe(200); // GET: the rule's second condition fails
  expect((await request(`${base}/abc/x`, { method: "POST" })).status).toBe(200); // '?' is one character
  expect((await request(`${base}/x/secret/y`)).status).toBe(403);
  const rewritten = JSON.parse((await request(`${base}/old/path?q=1`, { headers: { host: "ums.lab.test" } })).body) as EchoReply;
  expect([rewritten.url, rewritten.headers.host]).toEqual(["/new/path?q=1", "ums.internal"]);
  await alb.flushLogs();
  const entry = logLines(alb.accessLogDir, "access").find((f) => f[12].includes("/old/path"))!;
  expect([entry[20], entry[30], entry[31]]).toEqual(["7", "ums.internal", "/new/path?q=1"]); // matched_rule_priority, transformed_host, transformed_uri
});
