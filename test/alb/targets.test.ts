import * as net from "node:net";
import { AlbEmulator } from "../../simulator/alb";
import type { AlbEvent, StartedAlbEmulator } from "../../simulator/alb";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { request } from "./helpers/client";
import * as fs from "node:fs";

let pki: LabPki;
let synth: SynthesizedStacks;
const started: StartedAlbEmulator[] = [];
const targets: EchoTarget[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  // icg-alb-verify has no allow-list: every path reaches the target group through the 443 listener.
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }]);
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await Promise.all(targets.map((t) => t.close()));
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function echoTarget(name: string): Promise<EchoTarget> {
  const t = await startEchoTarget(pki, name);
  targets.push(t);
  return t;
}

async function start(options: Partial<ConstructorParameters<typeof AlbEmulator>[0]> & { target: string | string[] }): Promise<StartedAlbEmulator> {
  const alb = await new AlbEmulator({ stackDir: synth.stacks["icg-alb-verify"], ports: { 8443: 0, 443: 0 }, ...options }).start();
  started.push(alb);
  return alb;
}

/** The stack with a second target group attachment (as `instance.count: 2` writes it): one --target each. */
function twoAttachments(): string {
  const dir = editedStack(synth.stacks["icg-alb-verify"], (json) => {
    const attachments = json.resource.aws_lb_target_group_attachment;
    const [name, body] = Object.entries(attachments)[0];
    attachments[`${name}-2`] = { ...(body as object), target_id: "i-0second" };
  });
  dirs.push(dir);
  return dir;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls until `check` holds (bounded); for health states that change on the checker's schedule. */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("targets", () => {
  test("no registered target: 503 with AWS's error page, explained", async () => {
    const dir = editedStack(synth.stacks["icg-alb-verify"], (json) => delete json.resource.aws_lb_target_group_attachment);
    dirs.push(dir);
    const t = await echoTarget("unused");
    const events: AlbEvent[] = [];
    const alb = await start({ stackDir: dir, target: t.address, onEvent: (e) => events.push(e) });
    const r = await request(`${alb.listenerUrl(443)}/usg/check-status`);
    expect(r.status).toBe(503);
    expect(r.body).toContain("<title>503 Service Temporarily Unavailable</title>");
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/has no registered target/);
    expect(events).toContainEqual(expect.objectContaining({ kind: "request-refused", status: 503 }));
  });

  test("a target that has not passed a health check yet gets no request: 503 (AWS routes nothing to a target in initial)", async () => {
    const alb = await start({ target: `127.0.0.1:${await closedPort()}` });
    expect(alb.targetHealth()[0].state).toBe("initial");
    const r = await request(`${alb.listenerUrl(443)}/x`);
    expect(r.status).toBe(503);
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/has no target that passed its initial health check yet/);
  });

  test("a target that refuses the connection: 502 (once unhealthy, the load balancer fails open to it)", async () => {
    const alb = await start({ target: `127.0.0.1:${await closedPort()}`, healthCheckScale: 0.005 });
    await eventually(() => alb.targetHealth()[0].state === "unhealthy", "the target unhealthy");
    const r = await request(`${alb.listenerUrl(443)}/x`);
    expect(r.status).toBe(502);
    expect(r.body).toContain("502 Bad Gateway");
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/refused the connection/);
  });

  test("a target that closes the connection without answering: 502", async () => {
    const t = await echoTarget("resetting");
    const alb = await start({ target: t.address });
    const r = await request(`${alb.listenerUrl(443)}/reset`);
    expect(r.status).toBe(502);
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/closed the connection before answering/);
  });

  test("a target that accepts the connection but never completes the TLS handshake: 502 after the handshake timeout (AWS: 10 s)", async () => {
    const silent = net.createServer(() => undefined); // TCP accepted, not a byte of TLS
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const dir = editedStack(synth.stacks["icg-alb-verify"], (json) => {
      for (const tg of Object.values(json.resource.aws_lb_target_group) as Array<Record<string, any>>) tg.health_check.enabled = false;
    });
    dirs.push(dir);
    try {
      const alb = await start({ stackDir: dir, target: `127.0.0.1:${(silent.address() as net.AddressInfo).port}`, connectTimeoutMs: 300 });
      const r = await request(`${alb.listenerUrl(443)}/x`);
      expect(r.status).toBe(502);
      expect(r.headers["x-alb-emulator-reason"]).toMatch(/did not complete the TLS handshake within 300 ms/);
    } finally {
      silent.close();
    }
  });

  test("a target that does not answer in time: 504", async () => {
    const t = await echoTarget("hanging");
    const alb = await start({ target: t.address, targetTimeoutMs: 300 });
    const r = await request(`${alb.listenerUrl(443)}/hang`);
    expect(r.status).toBe(504);
    expect(r.body).toContain("504 Gateway Time-out");
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/sent no response within 300 ms/);
  });

  test("health checks use the group's path and matcher; unhealthy targets get no traffic while a healthy one exists", async () => {
    const a = await echoTarget("a");
    const b = await echoTarget("b");
    b.healthStatus = 500;
    const events: AlbEvent[] = [];
    const alb = await start({ stackDir: twoAttachments(), target: [a.address, b.address], healthCheckScale: 0.005, onEvent: (e) => events.push(e) });
    const state = (t: EchoTarget) => alb.targetHealth().find((h) => h.target === t.address)!.state;
    await eventually(() => state(a) === "healthy" && state(b) === "unhealthy", "a healthy, b unhealthy");
    expect(a.hits.get("/usg/check-status")).toBeGreaterThan(0); // icg-alb-verify's health path
    // The latest check's reason (a check of this fast schedule may also time out on a busy machine: wait for a mismatch).
    const health = () => alb.targetHealth().find((h) => h.target === b.address)!;
    await eventually(() => health().reason === "Target.ResponseCodeMismatch", "b's latest check a response-code mismatch");
    expect(health().description).toContain("answered 500; the matcher expects 200");
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add((JSON.parse((await request(`${alb.listenerUrl(443)}/x`)).body) as EchoReply).target);
    expect([...served]).toEqual(["a"]);
    expect(events).toContainEqual(expect.objectContaining({ kind: "target-health", target: b.address, to: "unhealthy" }));

    // b recovers after healthy_threshold (5) consecutive successes.
    b.healthStatus = 200;
    await eventually(() => state(b) === "healthy", "b healthy again");
  });

  test("each target group attachment is one --target; a count that matches neither the attachments nor one is refused", async () => {
    const a = await echoTarget("first");
    const b = await echoTarget("second");
    const alb = await start({ stackDir: twoAttachments(), target: [a.address, b.address], healthCheckScale: 0.005 });
    expect(alb.targetHealth().map((h) => h.target)).toEqual([a.address, b.address]);
    // One target for a stack with one attachment: the same stack, a third address, is refused.
    await expect(start({ target: [a.address, b.address, "127.0.0.1:1"] })).rejects.toThrow(
      /--target: 3 targets given, but target group \S+ has 1 attachment\(s\) \(aws_lb_target_group_attachment\.[^)]+\)\n {2}fix: give one --target per attachment/,
    );
  });

  test("all targets unhealthy: the load balancer fails open and routes to them anyway", async () => {
    const t = await echoTarget("sick");
    t.healthStatus = 503;
    const alb = await start({ target: t.address, healthCheckScale: 0.005 });
    await eventually(() => alb.targetHealth()[0].state === "unhealthy", "the target unhealthy");
    const r = await request(`${alb.listenerUrl(443)}/usg/anything`);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as EchoReply).target).toBe("sick");
  });
});
