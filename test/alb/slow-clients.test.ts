import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget } from "./helpers/echo-target";
import { logLines } from "./helpers/client";
import { RawClient } from "./helpers/raw-client";
import { synthesizeTestStacks, SynthesizedStacks, withLoadBalancerAttributes } from "./helpers/stacks";

/**
 * Slow and broken clients at the emulated ALB: a listener is never held by a client that sends
 * its head slowly (AWS's 408 on the idle timeout; the head deadline), heads the load balancer
 * cannot read are answered at once, a broken chunked body is a 400, a client still sending after
 * an early answer is not kept until the idle timeout, and a client gone before its answer is a 460
 * in the access log ("Troubleshoot your Application Load Balancers").
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let echo: EchoTarget;
let early: https.Server;
const started: StartedAlbEmulator[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }]);
  echo = await startEchoTarget(pki);
  // A target that refuses an upload at once (413) without reading it, as a size-limited server does.
  early = https.createServer({ key: fs.readFileSync(pki.web.privateKey), cert: fs.readFileSync(pki.web.entireChain) }, (req, res) => {
    if (req.url === "/usg/check-status") return void res.end("ok");
    res.writeHead(413, { "content-type": "text/plain" });
    res.end("too large");
  });
  await new Promise<void>((r) => early.listen(0, "127.0.0.1", r));
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await echo?.close();
  early?.closeAllConnections();
  await new Promise((r) => early?.close(r));
  synth?.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function alb(idleTimeout = 60, target = echo.address): Promise<StartedAlbEmulator> {
  const dir = withLoadBalancerAttributes(synth.stacks["icg-alb-verify"], { idle_timeout: idleTimeout });
  const logsDir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-slow-"));
  dirs.push(dir, logsDir);
  const a = await new AlbEmulator({ stackDir: dir, target, ports: { 8443: 0, 443: 0 }, logsDir }).start();
  started.push(a);
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statuses(a: StartedAlbEmulator): Promise<string[]> {
  await a.flushLogs();
  return logLines(a.accessLogDir, "access").map((f) => f[8]);
}

test("part of a head and then silence: 408 at the idle timeout, logged", async () => {
  const a = await alb(1);
  const c = await RawClient.connect(a.listenerUrl(443));
  const t0 = Date.now();
  c.send("GET /slow HTTP/1.1\r\nHost");
  const r = await c.next();
  expect([r.status, r.headers.connection]).toEqual([408, "close"]);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  await c.closed;
  expect(await statuses(a)).toContain("408");
});

test("slowloris: a head trickling in byte by byte is cut at the head deadline although every byte resets the idle timer", async () => {
  const a = await alb(1);
  const c = await RawClient.connect(a.listenerUrl(443));
  const t0 = Date.now();
  const text = `GET /loris HTTP/1.1\r\nX-Slow: ${"a".repeat(100)}`;
  let stopped = false;
  void c.closed.then(() => (stopped = true));
  const drip = (async () => {
    for (let i = 0; i < text.length && !stopped; i++) {
      c.send(text[i]);
      await sleep(150);
    }
  })();
  const r = await c.next();
  expect(r.status).toBe(408);
  expect(r.headers["x-alb-emulator-reason"]).toMatch(/not complete 1000 ms after its first byte/);
  expect(Date.now() - t0).toBeLessThan(2500);
  await c.closed;
  await drip;
});

test("slow clients do not hold the listener: others are served meanwhile", async () => {
  const a = await alb(60);
  const lorises = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(a.listenerUrl(443))));
  for (const l of lorises) l.send("GET /held HTTP/1.1\r\nHo");
  const c = await RawClient.connect(a.listenerUrl(443));
  c.send("GET /served HTTP/1.1\r\nHost: h\r\n\r\n");
  expect((await c.next()).status).toBe(200);
  c.close();
  for (const l of lorises) l.close();
});

test.each([
  ["a head with bare LF line ends", "GET / HTTP/1.1\nHost: h\n\n", /LF alone/],
  ["an HTTP/0.9 request", "GET /index.html\r\n", /HTTP\/0\.9/],
])("%s is answered at once (400), not after the idle timeout", async (_what, text, reason) => {
  const a = await alb(60);
  const c = await RawClient.connect(a.listenerUrl(443));
  const t0 = Date.now();
  c.send(text);
  const r = await c.next();
  expect(r.status).toBe(400);
  expect(r.headers["x-alb-emulator-reason"]).toMatch(reason);
  expect(Date.now() - t0).toBeLessThan(1000);
  await c.closed;
});

test("a malformed chunked body gets a 400, not a reset", async () => {
  const a = await alb(60);
  const c = await RawClient.connect(a.listenerUrl(443));
  c.send("POST /chunks HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n");
  const r = await c.next();
  expect([r.status, r.headers.connection]).toEqual([400, "close"]);
  expect(r.headers["x-alb-emulator-reason"]).toMatch(/malformed chunked request body/);
  await c.closed;
});

test("a client that stops half way through its body: 400 when it closes its side, 408 when it just goes quiet", async () => {
  const a = await alb(1);
  const half = await RawClient.connect(a.listenerUrl(443));
  half.send("POST /half HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  await sleep(100);
  half.socket.end();
  const r = await half.next();
  expect(r.status).toBe(400);
  expect(r.headers["x-alb-emulator-reason"]).toMatch(/closed the connection before sending the full request body/);
  const quiet = await RawClient.connect(a.listenerUrl(443));
  quiet.send("POST /quiet HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  expect((await quiet.next()).status).toBe(408);
  await quiet.closed;
});

test("a client still sending after an early 413 gets the answer and the connection ends within seconds, not at the idle timeout", async () => {
  const a = await alb(60, `127.0.0.1:${(early.address() as AddressInfo).port}`);
  const c = await RawClient.connect(a.listenerUrl(443));
  c.send("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n");
  let stopped = false;
  void c.closed.then(() => (stopped = true));
  const t0 = Date.now();
  const upload = (async () => {
    while (!stopped && Date.now() - t0 < 10_000) {
      c.send(Buffer.alloc(1000, 1));
      await sleep(100);
    }
  })();
  const r = await c.next();
  expect([r.status, r.body.toString()]).toEqual([413, "too large"]);
  await c.closed;
  expect(Date.now() - t0).toBeLessThan(5000);
  await upload;
});

test("a client gone before its answer: 460 in the access log", async () => {
  const a = await alb(60);
  const c = await RawClient.connect(a.listenerUrl(443));
  c.send("GET /hang HTTP/1.1\r\nHost: h\r\n\r\n");
  await sleep(200);
  c.reset(); // gone for good (a FIN alone is a half-close: the client still gets its answer)
  await sleep(200);
  const lines = (await a.flushLogs(), logLines(a.accessLogDir, "access"));
  const entry = lines.find((f) => f[12].includes("/hang"));
  expect(entry?.[8]).toBe("460");
});
