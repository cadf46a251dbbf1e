import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import type { AlbEvent } from "../../simulator/alb/events";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { logLines, request } from "./helpers/client";
import { RawClient } from "./helpers/raw-client";
import { editedStack, synthesizeTestStacks, SynthesizedStacks, withLoadBalancerAttributes } from "./helpers/stacks";

/**
 * The load balancer's attributes, read from the stack's aws_lb, as AWS documents them ("Application
 * Load Balancer attributes", "HTTP headers and Application Load Balancers", "Request tracing"),
 * and the load balancer's own documented answers ("Troubleshoot" > HTTP 405, 463, 501, 505).
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let echo: EchoTarget;
const started: StartedAlbEmulator[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }]);
  echo = await startEchoTarget(pki);
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await echo?.close();
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** An emulator for icg-alb-verify with these aws_lb attributes (every path reaches the echo target on 443). */
async function albWith(attributes: Record<string, unknown> = {}, logs = false): Promise<StartedAlbEmulator> {
  const dir = withLoadBalancerAttributes(synth.stacks["icg-alb-verify"], attributes);
  dirs.push(dir);
  const logsDir = logs ? fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-attr-")) : undefined;
  if (logsDir) dirs.push(logsDir);
  const alb = await new AlbEmulator({ stackDir: dir, target: echo.address, ports: { 8443: 0, 443: 0 }, logsDir }).start();
  started.push(alb);
  return alb;
}

/** What the target received for one raw request. */
async function seen(alb: StartedAlbEmulator, port: 443 | 8443, lines: string, cert = false): Promise<EchoReply> {
  const c = await RawClient.connect(alb.listenerUrl(port), cert ? pki.devices.good : undefined);
  c.send(`GET /seen HTTP/1.1\r\n${lines}\r\n`);
  const r = await c.next();
  c.close();
  expect(r.status).toBe(200);
  return JSON.parse(r.body.toString()) as EchoReply;
}

describe("drop_invalid_header_fields", () => {
  test("on (the stacks' setting): names outside [-A-Za-z0-9]+ are dropped, not refused", async () => {
    const alb = await albWith({ drop_invalid_header_fields: true });
    const r = await seen(alb, 443, "Host: h\r\nBad_Name: x\r\nGood-Name: y\r\nX.Dotted: z\r\n");
    expect(r.headers["bad_name"]).toBeUndefined();
    expect(r.headers["x.dotted"]).toBeUndefined();
    expect(r.headers["good-name"]).toBe("y");
  });

  test("off (AWS's default): they reach the target", async () => {
    const alb = await albWith({ drop_invalid_header_fields: false });
    expect((await seen(alb, 443, "Host: h\r\nBad_Name: x\r\n")).headers["bad_name"]).toBe("x");
  });
});

describe("X-Forwarded-For", () => {
  test("append (default): the client's address is added; with enable_xff_client_port, with its port", async () => {
    const plain = await albWith({ xff_header_processing_mode: "append" });
    expect((await seen(plain, 443, "Host: h\r\nX-Forwarded-For: 203.0.113.4\r\n")).headers["x-forwarded-for"]).toBe("203.0.113.4, 127.0.0.1");
    expect((await seen(plain, 443, "Host: h\r\n")).headers["x-forwarded-for"]).toBe("127.0.0.1");
    const port = await albWith({ enable_xff_client_port: true });
    expect((await seen(port, 443, "Host: h\r\n")).headers["x-forwarded-for"]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test("preserve: unchanged (client port setting overridden); remove: gone", async () => {
    const preserve = await albWith({ xff_header_processing_mode: "preserve", enable_xff_client_port: true });
    expect((await seen(preserve, 443, "Host: h\r\nX-Forwarded-For: 203.0.113.4, 198.51.100.9\r\n")).headers["x-forwarded-for"]).toBe("203.0.113.4, 198.51.100.9");
    expect((await seen(preserve, 443, "Host: h\r\n")).headers["x-forwarded-for"]).toBeUndefined();
    const remove = await albWith({ xff_header_processing_mode: "remove" });
    expect((await seen(remove, 443, "Host: h\r\nX-Forwarded-For: 203.0.113.4\r\n")).headers["x-forwarded-for"]).toBeUndefined();
  });

  test("more than 30 addresses: 463 from the load balancer, the target never asked", async () => {
    const alb = await albWith();
    const before = echo.hits.get("/xff") ?? 0;
    const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`).join(", ");
    expect((await request(`${alb.listenerUrl(443)}/xff`, { headers: { "X-Forwarded-For": addresses(30) } })).status).toBe(200);
    const r = await request(`${alb.listenerUrl(443)}/xff`, { headers: { "X-Forwarded-For": addresses(31) } });
    expect(r.status).toBe(463);
    expect(r.headers["x-alb-emulator-reason"]).toMatch(/31 addresses; the limit is 30/);
    expect(echo.hits.get("/xff")).toBe(before + 1);
  });
});

describe("Host (preserve_host_header)", () => {
  test("off: the listener port is appended on 8443, removed on 443; an absolute target's host is used", async () => {
    const alb = await albWith({ preserve_host_header: false });
    expect((await seen(alb, 8443, "Host: ums.lab.test\r\n", true)).headers.host).toBe("ums.lab.test:8443");
    expect((await seen(alb, 8443, "Host: ums.lab.test:9000\r\n", true)).headers.host).toBe("ums.lab.test:9000");
    expect((await seen(alb, 443, "Host: ums.lab.test:443\r\n")).headers.host).toBe("ums.lab.test");
    const c = await RawClient.connect(alb.listenerUrl(443));
    c.send("GET https://dns.example/seen HTTP/1.1\r\nHost: other.example\r\n\r\n");
    expect((JSON.parse((await c.next()).body.toString()) as EchoReply).headers.host).toBe("dns.example");
    c.close();
  });

  test("on: the Host header as the client sent it", async () => {
    const alb = await albWith({ preserve_host_header: true });
    expect((await seen(alb, 8443, "Host: ums.lab.test\r\n", true)).headers.host).toBe("ums.lab.test");
  });
});

describe("X-Amzn-Trace-Id (Request tracing)", () => {
  const ROOT = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/;
  const SELF = /Self=1-[0-9a-f]{8}-[0-9a-f]{24}/;

  test("none: a Root; a Root: a Self in front; a Self: updated, every other field kept", async () => {
    const alb = await albWith();
    expect((await seen(alb, 443, "Host: h\r\n")).headers["x-amzn-trace-id"]).toMatch(ROOT);
    const root = "Root=1-67891233-abcdef012345678912345678";
    const withRoot = (await seen(alb, 443, `Host: h\r\nX-Amzn-Trace-Id: ${root};CalledFrom=app\r\n`)).headers["x-amzn-trace-id"];
    expect(withRoot).toMatch(new RegExp(`^${SELF.source};${root};CalledFrom=app$`));
    const old = "Self=1-00000000-000000000000000000000000";
    const updated = (await seen(alb, 443, `Host: h\r\nX-Amzn-Trace-Id: ${old};${root};CalledFrom=app\r\n`)).headers["x-amzn-trace-id"];
    expect(updated).not.toContain(old);
    expect(updated).toMatch(new RegExp(`^${SELF.source};${root};CalledFrom=app$`));
  });

  test("headers over 7 KB: the header is rewritten with a fresh Root", async () => {
    const alb = await albWith();
    const r = await seen(alb, 443, `Host: h\r\nX-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678\r\nX-Pad: ${"p".repeat(7200)}\r\n`);
    expect(r.headers["x-amzn-trace-id"]).toMatch(ROOT);
    expect(r.headers["x-amzn-trace-id"]).not.toContain("67891233");
  });
});

describe("the load balancer's own answers", () => {
  test.each([
    ["TRACE", "TRACE /x HTTP/1.1\r\nHost: h\r\n\r\n", 405, /TRACE method is not supported/],
    ["Transfer-Encoding: gzip", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, /'gzip' is not supported/],
    ["an HTTP/2 request line", "GET /x HTTP/2.0\r\nHost: h\r\n\r\n", 505, /HTTP\/2\.0 request on an HTTP\/1 connection/],
    ["a request line over 16 KB", `GET /${"a".repeat(17_000)} HTTP/1.1\r\nHost: h\r\n\r\n`, 400, /request line longer than 16384/],
    ["a header over 16 KB", `GET /x HTTP/1.1\r\nHost: h\r\nX-A: ${"a".repeat(17_000)}\r\n\r\n`, 400, /header line longer than 16384/],
  ])("%s: %s", async (_what, text, status, reason) => {
    const alb = await albWith({}, true);
    const c = await RawClient.connect(alb.listenerUrl(443));
    c.send(text);
    const r = await c.next();
    expect([r.status, r.headers.server, r.headers.connection]).toEqual([status, "awselb/2.0", "close"]);
    expect(r.headers["x-alb-emulator-reason"]).toMatch(reason);
    await c.closed;
    await alb.flushLogs();
    expect(logLines(alb.accessLogDir, "access").map((f) => f[8])).toContain(String(status));
  });
});

describe("idle_timeout on WebSockets and client_keep_alive", () => {
  test("traffic in either direction keeps a WebSocket open past the idle timeout; silence both ways closes it", async () => {
    const alb = await albWith({ idle_timeout: 1 });
    const ws = new WebSocket(`${alb.listenerUrl(443).replace("https:", "wss:")}/ws`, { rejectUnauthorized: false });
    await new Promise((r) => ws.once("message", r)); // the echo target's greeting
    ws.on("message", () => undefined);
    // Only the client talks (the target answers, but a client-only timer would not care): 2.5 s, five idle timeouts' worth of 0.4 s gaps.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 400));
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.send(`ping ${i}`);
    }
    const t0 = Date.now();
    await new Promise((r) => ws.once("close", r));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test("idleTimeoutScale runs the stack's idle_timeout faster, and the cut WebSocket is told as an idle-timeout event", async () => {
    const dir = withLoadBalancerAttributes(synth.stacks["icg-alb-verify"], { idle_timeout: 60 });
    dirs.push(dir);
    const events: AlbEvent[] = [];
    const alb = await new AlbEmulator({ stackDir: dir, target: echo.address, ports: { 8443: 0, 443: 0 }, idleTimeoutScale: 0.01, onEvent: (e) => events.push(e) }).start();
    started.push(alb);
    const ws = new WebSocket(`${alb.listenerUrl(443).replace("https:", "wss:")}/ws`, { rejectUnauthorized: false });
    await new Promise((r) => ws.once("message", r));
    const t0 = Date.now();
    const code = await new Promise<number>((r) => ws.once("close", r));
    // 60 s x 0.01 = 600 ms of silence; no close frame: the client sees 1006, as behind a real ALB.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(code).toBe(1006);
    expect(events.filter((e) => e.kind === "idle-timeout")).toEqual([expect.objectContaining({ kind: "idle-timeout", listenerPort: 443, idleTimeoutMs: 600, reason: "no data either way for the idle timeout (600 ms)" })]);
  });

  test("after client_keep_alive the next response closes the connection", async () => {
    const alb = await albWith({ client_keep_alive: 1 });
    const c = await RawClient.connect(alb.listenerUrl(443));
    c.send("GET /ka1 HTTP/1.1\r\nHost: h\r\n\r\n");
    expect((await c.next()).headers.connection).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1100));
    c.send("GET /ka2 HTTP/1.1\r\nHost: h\r\n\r\n");
    expect((await c.next()).headers.connection).toBe("close");
    await c.closed;
  });
});

describe("health checks", () => {
  test("disabled: targets are 'unavailable' (Target.HealthCheckDisabled) and get traffic", async () => {
    const dir = editedStack(synth.stacks["icg-alb-verify"], (json) => {
      for (const tg of Object.values(json.resource.aws_lb_target_group) as Array<Record<string, any>>) tg.health_check.enabled = false;
    });
    dirs.push(dir);
    const alb = await new AlbEmulator({ stackDir: dir, target: echo.address, ports: { 8443: 0, 443: 0 } }).start();
    started.push(alb);
    expect(alb.targetHealth()[0]).toMatchObject({ state: "unavailable", reason: "Target.HealthCheckDisabled" });
    expect((await request(`${alb.listenerUrl(443)}/x`)).status).toBe(200);
  });
});
