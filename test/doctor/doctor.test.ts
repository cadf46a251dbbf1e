import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { runDoctor, Finding, blockedByFront } from "../../simulator/doctor/doctor";
import { LoopbackRuntime } from "../../simulator/runtime/runtime";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { Lab } from "../../simulator/runtime/lab";
import { projectRoot } from "../../core/project-root";
import { testLab } from "../helpers/lab";

/** The doctor against the lab's own topologies: a good front, an ALB in verify mode, and a UMS exposed directly (broken). */

let lab: Lab;
const runtime = new LoopbackRuntime();
const running: StartedTopology[] = [];
beforeAll(async () => {
  lab = await testLab();
});
afterAll(async () => {
  for (const t of running) await t.stop();
});

async function up(name: Parameters<typeof startTopology>[0]): Promise<StartedTopology> {
  const t = await startTopology(name, runtime, lab, { instance: "doctor" });
  running.push(t);
  return t;
}

const find = (findings: Finding[], check: string) => findings.find((f) => f.check === check);
const device = () => ({ cert: fs.readFileSync(lab.pki.devices.good.chain, "utf8"), key: fs.readFileSync(lab.pki.devices.good.key, "utf8") });

test("reverse proxy: TLS 1.3 only, the four IGEL paths reachable, the IMI API blocked, mTLS and the device WebSocket work", async () => {
  const t = await up("reverse-proxy");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...device() });
  expect(findings.filter((f) => f.status === "fail")).toEqual([]);
  expect(find(findings, "TLS 1.3")?.status).toBe("pass");
  expect(find(findings, "TLS 1.2")?.detail).toMatch(/^not offered/);
  expect(find(findings, "blocked path /umsapi/v3/serverstatus")?.status).toBe("pass");
  expect(find(findings, "allowed path /wums-app/")?.detail).toMatch(/^reachable: 200/);
  expect(find(findings, "client certificate required")?.detail).toMatch(/^no:/);
  expect(find(findings, "device WebSocket")?.status).toBe("pass");
});

test("ALB verify: 8443 requires a client certificate and advertises no CA names; 443 does not ask for one", async () => {
  const t = await up("alb-verify");
  const mtls = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn, ...device() });
  expect(find(mtls, "client certificate required")?.detail).toMatch(/^yes:/);
  expect(find(mtls, "client certificate request")?.detail).toBe("requested; no CA names advertised");
  expect(find(mtls, "device WebSocket")?.status).toBe("pass");
  const plain = await runDoctor(t.devices.enrollmentUrl, { servername: lab.pki.fqdn });
  expect(find(plain, "client certificate request")?.detail).toBe("not requested (plain TLS listener)");
  expect(find(plain, "blocked path /umsapi/v3/thinclients")?.status).toBe("pass");
  expect(find(plain, "allowed path /webapp/")?.status).toBe("pass");
});

test("a UMS exposed directly (no front) fails: the IMI API is reachable from the device side", async () => {
  const t = await up("direct");
  const findings = await runDoctor(t.devices.clusterUrl, { servername: lab.pki.fqdn });
  expect(find(findings, "blocked path /umsapi/v3/serverstatus")).toMatchObject({ status: "fail", detail: expect.stringContaining("reachable from the device side (200") });
  expect(find(findings, "health path")?.detail).toBe("/info answers 200 from outside");
});

test("the command: exit 1 on a failing finding, 2 for a URL that is not https, a table on stdout", () => {
  const bin = path.join(projectRoot(), "dist", "cli", "index.js");
  const direct = running.find((t) => t.name === "direct")!;
  const r = spawnSync(process.execPath, [bin, "doctor", direct.devices.clusterUrl, "--servername", lab.pki.fqdn], { encoding: "utf8" });
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/^check\s+status\s+detail\n/);
  const http = spawnSync(process.execPath, [bin, "doctor", "http://ums.example.com:8443"], { encoding: "utf8" });
  expect(http.status).toBe(2);
  expect(http.stderr).toBe("ums-edge: URL: 'http://ums.example.com:8443' is not https\n  fix: IGEL devices only speak HTTPS: use https://ums.example.com:8443\n");
});

test("an unreachable address is one failing finding", async () => {
  const findings = await runDoctor("https://127.0.0.1:9", { timeoutMs: 1000 });
  expect(findings).toEqual([{ check: "reachable", status: "fail", detail: expect.stringMatching(/^cannot open a TLS connection to 127\.0\.0\.1:9/) }]);
});

test("front answers are told apart from backend answers", () => {
  expect(blockedByFront({ status: 404, body: "Not Found" })).toBe(true);
  expect(blockedByFront({ status: 404, body: "<html><center>nginx</center></html>" })).toBe(true);
  expect(blockedByFront({ status: 403 })).toBe(true);
  expect(blockedByFront({ status: 404, body: '{"error":"not-found","by":"ums"}' })).toBe(false);
  expect(blockedByFront({ status: 401, body: "{}" })).toBe(false);
});
