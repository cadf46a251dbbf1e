import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { AlbEmulator } from "../../simulator/alb";
import { UserError } from "../../core/errors";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget } from "./helpers/echo-target";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { request } from "./helpers/client";

const ROOT = path.resolve(__dirname, "../..");
const REGISTER = path.join(__dirname, "../helpers/ts-register.js");

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let busy: net.Server;
let busyPort: number;
const dirs: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }, { variant: "ums-direct" }]);
  target = await startEchoTarget(pki);
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await target?.close();
  await new Promise((r) => busy?.close(r));
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ums-edge alb ...` from the sources; `untilReady` sends SIGTERM once the ready line is out. */
function alb(args: string[], untilReady = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", REGISTER, path.join(ROOT, "cli/index.ts"), "alb", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
      if (untilReady && stdout.includes("\n")) child.kill("SIGTERM");
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("ums-edge alb", () => {
  test("prints one JSON line with its listeners when ready, serves, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["-r", REGISTER, path.join(ROOT, "cli/index.ts"), "alb", "--stack", synth.stacks["ums-alb-verify"], "--target", target.address, "--port", "8443=0", "--port", "443=0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c;
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("close", (code) => reject(new Error(`exited ${code} before ready`)));
    });
    const ready = JSON.parse(line) as { component: string; stack: string; listeners: Record<string, string>; mtls: Record<string, string>; targets: string[] };
    expect(ready).toMatchObject({ component: "alb", stack: "ums-alb-verify", mtls: { "443": "off", "8443": "verify" }, targets: [target.address] });
    expect(Object.keys(ready.listeners).sort()).toEqual(["443", "8443"]);
    const r = await request(`${ready.listeners["443"]}/wums-app/`);
    expect(r.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  const missingObject = () => {
    const dir = editedStack(synth.stacks["ums-alb-verify"], (json) => {
      for (const name of Object.keys(json.resource.aws_s3_object)) if (name.includes("ca-bundle")) delete json.resource.aws_s3_object[name];
    });
    dirs.push(dir);
    return dir;
  };
  const noHttps = () => {
    const dir = editedStack(synth.stacks["ums-alb-verify"], (json) => {
      for (const l of Object.values(json.resource.aws_lb_listener) as Array<Record<string, unknown>>) {
        l.protocol = "HTTP";
        delete l.mutual_authentication;
      }
    });
    dirs.push(dir);
    return dir;
  };

  test.each([
    ["a directory without cdk.tf.json", () => ["--stack", path.dirname(synth.stacks["ums-direct"]), "--target", "127.0.0.1:8443"], /there is no cdk\.tf\.json in this directory\n {2}fix: run 'ums-edge synth'/],
    ["a stack without a load balancer", () => ["--stack", synth.stacks["ums-direct"], "--target", "127.0.0.1:8443"], /no Application Load Balancer \(no aws_lb resource\)/],
    ["a stack with no HTTPS listener", () => ["--stack", noHttps(), "--target", "127.0.0.1:8443"], /the stack has no HTTPS listener \(aws_lb_listener with protocol HTTPS; it has HTTP 443, HTTP 8443\)/],
    ["a listener whose trust-store object is missing", () => ["--stack", missingObject(), "--target", "127.0.0.1:8443"], /aws_lb_trust_store\.[^:]+\.ca_certificates_bundle_s3_key: refers to aws_s3_object\.trust_ca-bundle[^,]*, which is not in the stack/],
    ["a target that is not HOST:PORT", () => ["--stack", synth.stacks["ums-alb-verify"], "--target", "ums.lab.test"], /--target: 'ums\.lab\.test' is not HOST:PORT\n {2}fix:/],
    ["a port mapping that is not LISTENER=LOCAL", () => ["--stack", synth.stacks["ums-alb-verify"], "--target", "127.0.0.1:1", "--port", "8443"], /--port '8443': expected LISTENER=LOCAL/],
    ["a port already in use", () => ["--stack", synth.stacks["ums-alb-verify"], "--target", "127.0.0.1:1", "--port", "443=0", "--port", `8443=${busyPort}`], /listener 8443: 127\.0\.0\.1:\d+ is already in use\n {2}fix: stop what listens there, or map the listener elsewhere/],
  ] as const)("%s: a clear message and exit code 2", async (_name, args, message) => {
    const run = await alb([...args()], true);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe(""); // never announced ready
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  test("nothing is left listening when a later listener cannot bind", async () => {
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
    const firstPort = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    await expect(new AlbEmulator({ stackDir: synth.stacks["ums-alb-verify"], target: target.address, ports: { 443: firstPort, 8443: busyPort } }).start()).rejects.toThrow(UserError);
    // 443 was bound first and must have been closed again.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.listen(firstPort, "127.0.0.1", resolve);
    });
    await new Promise((r) => again.close(r));
  });
});
