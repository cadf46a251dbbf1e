import { createHash } from "node:crypto";
import * as https from "node:https";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { RawClient } from "./helpers/raw-client";
import { startRawTarget, RawTarget } from "./helpers/raw-target";
import { synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";

/**
 * The emulator's streaming proxy path at the HTTP level: message boundaries (Content-Length,
 * chunked, up to the close), kept-alive and pipelined client connections, reuse of target
 * connections, interim responses, malformed requests, and the answers that must close the
 * connection. icg-alb-verify's 443 listener forwards every path; ums-alb-verify's 443 listener
 * answers paths outside its allow-list itself (fixed 404).
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let echo: EchoTarget;
let alb: StartedAlbEmulator;
let fixed: StartedAlbEmulator;
const started: StartedAlbEmulator[] = [];
const raws: RawTarget[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }, { variant: "ums-alb-verify" }]);
  echo = await startEchoTarget(pki);
  alb = await new AlbEmulator({ stackDir: synth.stacks["icg-alb-verify"], target: echo.address, ports: { 8443: 0, 443: 0 } }).start();
  fixed = await new AlbEmulator({ stackDir: synth.stacks["ums-alb-verify"], target: echo.address, ports: { 8443: 0, 443: 0 } }).start();
});

afterAll(async () => {
  await Promise.all([alb, fixed, ...started].map((a) => a?.stop()));
  await Promise.all(raws.map((t) => t.close()));
  await echo?.close();
  synth?.cleanup();
});

async function behindRaw(answer: Parameters<typeof startRawTarget>[1]): Promise<{ target: RawTarget; url: string }> {
  const target = await startRawTarget(pki, answer);
  raws.push(target);
  const a = await new AlbEmulator({ stackDir: synth.stacks["icg-alb-verify"], target: target.address, ports: { 8443: 0, 443: 0 } }).start();
  started.push(a);
  return { target, url: a.listenerUrl(443) };
}

const url = () => alb.listenerUrl(443);
const reply = (body: Buffer) => JSON.parse(body.toString()) as EchoReply;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

test("kept-alive client connection: requests in turn, each target connection reused", async () => {
  const { target, url: u } = await behindRaw((req, s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(req.connection).length}\r\n\r\n${req.connection}`));
  const c = await RawClient.connect(u);
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    c.send(`GET /kept/${i} HTTP/1.1\r\nHost: ums.lab.test\r\n\r\n`);
    const r = await c.next();
    expect(r.status).toBe(200);
    seen.push(r.body.toString());
  }
  c.close();
  expect(new Set(seen).size).toBe(1); // one target connection served all three
  expect(target.requests.filter((r) => r.path.startsWith("/kept/")).map((r) => r.index)).toEqual([1, 2, 3]);
});

test("pipelined requests are answered in order, bodies kept apart", async () => {
  const c = await RawClient.connect(url());
  c.send(
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" +
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n" +
      "GET /d HTTP/1.1\r\nHost: h\r\n\r\n",
  );
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(reply((await c.next()).body));
  c.close();
  expect(replies.map((r) => [r.method, r.url, r.body])).toEqual([
    ["GET", "/a", ""],
    ["POST", "/b", "hello"],
    ["POST", "/c", "abcde"],
    ["GET", "/d", ""],
  ]);
  expect(replies[2].headers["transfer-encoding"]).toBe("chunked");
});

test("a chunked upload sent in pieces reaches the target whole; a 1 MB download comes back whole", async () => {
  const c = await RawClient.connect(url());
  const data = Buffer.alloc(1 << 20, "0123456789abcdef");
  c.send("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (let at = 0; at < data.length; at += 100_000) {
    const piece = data.subarray(at, at + 100_000);
    c.send(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]));
    await new Promise((r) => setImmediate(r));
  }
  c.send("0\r\n\r\n");
  const r = await c.next();
  c.close();
  const echoed = reply(r.body);
  expect(sha(Buffer.from(echoed.body))).toBe(sha(data));
  expect(r.body.length).toBeGreaterThan(data.length);
});

test("a body that ends with the target's close goes to an HTTP/1.1 client as chunks, and the connection stays", async () => {
  const { url: u } = await behindRaw((req, s) => {
    if (req.path === "/close") s.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const c = await RawClient.connect(u);
  c.send("GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
  const r = await c.next();
  expect([r.status, r.headers["transfer-encoding"], r.body.toString()]).toEqual([200, "chunked", "until the end"]);
  c.send("GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  expect((await c.next()).body.toString()).toBe("ok");
  c.close();
});

test("HEAD, 204 and 304 have no body, and the connection goes on", async () => {
  const { url: u } = await behindRaw((req, s) => {
    if (req.path === "/204") s.write("HTTP/1.1 204 No Content\r\n\r\n");
    else if (req.path === "/304") s.write("HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n");
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + (req.head.startsWith("HEAD") ? "" : "hello"));
  });
  const c = await RawClient.connect(u);
  c.send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n");
  const head = await c.next({ head: true });
  expect([head.status, head.headers["content-length"]]).toEqual([200, "5"]);
  for (const p of ["/204", "/304", "/get"]) c.send(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
  expect((await c.next()).status).toBe(204);
  expect((await c.next()).status).toBe(304);
  expect((await c.next()).body.toString()).toBe("hello");
  c.close();
});

test("100 Continue from the target reaches the client before the final answer", async () => {
  const c = await RawClient.connect(url());
  c.send("POST /expect HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  expect((await c.next()).status).toBe(100);
  c.send("body");
  const r = await c.next();
  expect([r.status, reply(r.body).body]).toEqual([200, "body"]);
  c.close();
});

test("a fixed response before the body: the connection goes on when the client sends the body, closes when it waits for 100 Continue", async () => {
  const u = fixed.listenerUrl(443);
  const c = await RawClient.connect(u);
  c.send("POST /umsapi/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  const r = await c.next();
  expect([r.status, r.headers.connection]).toEqual([404, undefined]);
  c.send("GET /device-connector/v1/next HTTP/1.1\r\nHost: h\r\n\r\n");
  expect(reply((await c.next()).body).url).toBe("/device-connector/v1/next");
  c.close();

  const waiting = await RawClient.connect(u);
  waiting.send("POST /umsapi/x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  const refused = await waiting.next();
  expect([refused.status, refused.headers.connection]).toEqual([404, "close"]);
  await waiting.closed;
});

test.each([
  ["a Content-Length list (Severe: BadContentLength)", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n"],
  ["a NUL in a header (Severe: BadHeader)", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n"],
  ["a head larger than 64 KB", `GET /x HTTP/1.1\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`],
])("a request with %s: 400, explained, the connection closed, the target never asked", async (_what, request) => {
  const before = echo.hits.get("/x") ?? 0;
  const c = await RawClient.connect(url());
  c.send(request);
  const r = await c.next();
  expect([r.status, r.headers.connection, r.headers.server]).toEqual([400, "close", "awselb/2.0"]);
  expect(r.headers["x-alb-emulator-reason"]).toMatch(/^malformed request: |^desync mitigation \(defensive mode\) blocked a request classified Severe/);
  await c.closed;
  expect(echo.hits.get("/x") ?? 0).toBe(before);
});

test("a kept-alive target connection the target dropped: the request is sent again on a new one", async () => {
  const { target, url: u } = await behindRaw((req, s) => {
    if (req.index === 2) s.destroy(); // as if the target had closed the idle connection just then
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const c = await RawClient.connect(u);
  for (let i = 0; i < 2; i++) {
    c.send(`GET /again/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
    expect((await c.next()).status).toBe(200);
  }
  c.close();
  expect(target.requests.filter((r) => r.path === "/again/1").map((r) => r.index)).toEqual([2, 1]);
});

test("an HTTP/1.0 client gets Connection: close and the connection ends; a half-closed client still gets its answer", async () => {
  const c = await RawClient.connect(url());
  c.send("GET /old HTTP/1.0\r\nHost: h\r\n\r\n");
  const r = await c.next();
  expect([r.status, r.headers.connection]).toEqual([200, "close"]);
  await c.closed;

  const half = await RawClient.connect(url());
  half.socket.end("GET /half HTTP/1.1\r\nHost: h\r\n\r\n");
  expect(reply((await half.next()).body).url).toBe("/half");
  await half.closed;
});

test("a target that declines an upgrade: its answer is relayed and the connection closes", async () => {
  const c = await RawClient.connect(url());
  c.send("GET /ws/no-upgrade HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  const r = await c.next();
  expect([r.status, r.headers.connection, r.body.toString()]).toEqual([403, "close", "forbidden"]);
  await c.closed;
});

test("Node's https client on a keep-alive agent: many requests, all answered", async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2, rejectUnauthorized: false });
  const get = (i: number) =>
    new Promise<number>((resolve, reject) => {
      https
        .get(`${url()}/many/${i}`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
        .on("error", reject);
    });
  const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => get(i)));
  agent.destroy();
  expect(statuses.every((s) => s === 200)).toBe(true);
  expect(echo.hits.get("/many/49")).toBe(1);
});

test("a client that resets its connection mid-request leaves the emulator serving", async () => {
  const c = await RawClient.connect(url());
  c.send("GET /reset-me/hang HTTP/1.1\r\nHost: h\r\n\r\n");
  await new Promise((r) => setTimeout(r, 50));
  c.reset();
  await c.closed;
  await new Promise((r) => setTimeout(r, 50));
  const after = await RawClient.connect(url());
  after.send("GET /still-there HTTP/1.1\r\nHost: h\r\n\r\n");
  expect((await after.next()).status).toBe(200);
  after.close();
});
