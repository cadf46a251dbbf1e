import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { createCsr, generateRsaKeyPair } from "../../simulator/pki";
import { ROUTES } from "../../simulator/protocol/routes";
import { MAX_MESSAGE_BYTES } from "../../simulator/protocol/messages";
import { Attempt, CategoryRun, ProbeContext } from "./probe-model";
import { rawExchange, RawResult } from "./raw-exchange";

/**
 * Probe categories above HTTP: the management WebSocket, onboarding, and the IMI admin API. Each
 * attempt is an attack with a clear success condition (another device's identity, a second device
 * on one key, a login past the lockout, ...), counted as let through when it succeeds.
 */

const HOST = "Host: ums.probe\r\n";

/** A WebSocket with the lab's good device certificate; resolves with the close code and whether a welcome came. */
function deviceSocket(ctx: ProbeContext, path: string, send: (ws: WebSocket) => void): Promise<{ code?: number; welcome: boolean; status?: number; error?: string }> {
  const t = ctx.topology.devices;
  const pki = ctx.lab.pki;
  return new Promise((resolve) => {
    let welcome = false;
    const ws = new WebSocket(`${t.clusterUrl.replace(/^https:/, "wss:")}${path}`, {
      ca: fs.readFileSync(t.trustedCaFile),
      servername: t.serverName,
      cert: fs.readFileSync(pki.devices.good.chain),
      key: fs.readFileSync(pki.devices.good.key),
      handshakeTimeout: 5000,
    } as WebSocket.ClientOptions);
    const timer = setTimeout(() => ws.terminate(), 6000);
    ws.on("open", () => send(ws));
    ws.on("message", (data) => {
      if (String(data).includes('"welcome"')) welcome = true;
    });
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode, welcome });
      ws.terminate();
    });
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, welcome });
    });
    ws.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ welcome, error: e.code ?? e.message });
    });
  });
}

export const webSocketAbuse: CategoryRun = async (ctx) => {
  const hello = (unitId: string) => JSON.stringify({ type: "hello", unitId, mac: "00E0C5000001", firmware: "12.7.1" });
  const cases: Array<{ name: string; path?: string; send: (ws: WebSocket) => void; taken: (r: { code?: number; welcome: boolean; status?: number }) => boolean }> = [
    { name: "hello naming another device", send: (ws) => ws.send(hello("SOMEONE-ELSE")), taken: (r) => r.welcome },
    { name: "garbage text frame", send: (ws) => ws.send("{not json"), taken: () => false },
    { name: "binary frame", send: (ws) => ws.send(Buffer.from([1, 2, 3])), taken: () => false },
    { name: "message over the size limit", send: (ws) => ws.send("x".repeat(MAX_MESSAGE_BYTES * 4 + 10)), taken: () => false },
    { name: "command result for a command never sent", send: (ws) => ws.send(JSON.stringify({ type: "command-result", commandId: "nope", status: "ok" })), taken: () => false },
    { name: "a thousand heartbeats at once", send: (ws) => { for (let i = 0; i < 1000; i++) ws.send(JSON.stringify({ type: "heartbeat", sentAt: Date.now() })); ws.close(); }, taken: () => false },
    { name: "WebSocket to the IMI API", path: ROUTES.serverStatus, send: (ws) => ws.close(), taken: (r) => ctx.allowList && r.status === undefined && r.code !== undefined },
  ];
  const used = ctx.quick ? cases.slice(0, 3) : cases;
  const attempts: Attempt[] = [];
  for (const c of used) {
    const r = await deviceSocket(ctx, c.path ?? ROUTES.deviceSocket, c.send);
    const how = r.status !== undefined ? `answered ${r.status}` : r.code !== undefined ? `closed ${r.code}` : (r.error ?? "no answer");
    attempts.push({ input: `${c.name} (${how})`, status: r.status, letThrough: c.taken(r), why: c.taken(r) ? "accepted" : undefined });
  }
  // Broken handshakes, as raw bytes.
  const raw: Array<[string, string]> = [
    ["upgrade without a key", `GET ${ROUTES.deviceSocket} HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`],
    ["upgrade to version 99", `GET ${ROUTES.deviceSocket} HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`],
    ["upgrade to h2c", `GET ${ROUTES.deviceSocket} HTTP/1.1\r\n${HOST}Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n`],
    ["unmasked frame after the upgrade", `GET ${ROUTES.deviceSocket} HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\u0081\u0005hello`],
  ];
  for (const [name, bytes] of ctx.quick ? raw.slice(0, 2) : raw) {
    const r = await rawExchange(ctx.withCert, [bytes], { quietMs: 800 });
    attempts.push({ input: name, status: r.status, by: r.by, letThrough: false });
  }
  return attempts;
};

/** An onboarding request as raw bytes on the enrollment address. */
function onboardRaw(ctx: ProbeContext, body: string): Promise<RawResult> {
  return rawExchange(ctx.noCert, [`POST ${ROUTES.onboard} HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`], { quietMs: 2000 });
}

export const onboardingAbuse: CategoryRun = async (ctx) => {
  const keys = await ctx.imi.mintEnrollmentKeys(4);
  const pair = await generateRsaKeyPair();
  const weak = ctx.quick ? pair : await generateRsaKeyPair(1024);
  const unit = () => `PROBE-${randomBytes(4).toString("hex").toUpperCase()}`;
  const request = (key: string, unitId: string, cn = unitId, keys_ = pair) =>
    JSON.stringify({ enrollmentKey: key, csr: createCsr(keys_.privateKeyPem, keys_.publicKeyPem, { commonName: cn }), unitId, mac: "00E0C5ABCDEF", firmware: "12.7.1" });
  const attempts: Attempt[] = [];
  const record = (input: string, r: RawResult, mustFail = true) => {
    const taken = mustFail && r.status === 200;
    attempts.push({ input, status: r.status, by: r.by, letThrough: taken, why: taken ? "a certificate was issued" : undefined });
  };
  // A legitimate device first: the unit id to take over, the key to reuse.
  const victim = unit();
  const legit = await onboardRaw(ctx, request(keys[0], victim));
  attempts.push({ input: "a legitimate onboarding (control)", status: legit.status, by: legit.by, letThrough: false });
  record("the same key again for another unit", await onboardRaw(ctx, request(keys[0], unit())));
  record("a fresh key taking over the existing unit id", await onboardRaw(ctx, request(keys[1], victim)));
  record("an enrollment key the UMS never issued", await onboardRaw(ctx, request("NOT-A-KEY", unit())));
  record("a CSR for another unit id", await onboardRaw(ctx, request(keys[2], unit(), "SOMEONE-ELSE")));
  if (!ctx.quick) record("an RSA-1024 CSR", await onboardRaw(ctx, request(keys[2], unit(), undefined, weak)));
  record("a unit id with a path in it", await onboardRaw(ctx, request(keys[2], "../../umsapi")));
  record("a body that is not JSON", await onboardRaw(ctx, "{enrollmentKey:"));
  record("a 70 KB body", await onboardRaw(ctx, JSON.stringify({ pad: "x".repeat(70_000) })));
  // One key, five devices at once: at most one may win.
  const racers = await Promise.all(Array.from({ length: ctx.quick ? 3 : 5 }, () => onboardRaw(ctx, request(keys[3], unit()))));
  const winners = racers.filter((r) => r.status === 200).length;
  for (const r of racers) attempts.push({ input: "one key, several devices at once", status: r.status, by: r.by, letThrough: false });
  if (winners > 1) attempts.push({ input: "one key, several devices at once", letThrough: true, why: `${winners} devices onboarded with one key` });
  return attempts;
};

export const adminApiAbuse: CategoryRun = async (ctx) => {
  const imi = ctx.imi;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const creds = ctx.topology.admin.credentials;
  const attempts: Attempt[] = [];
  const add = (input: string, status: number, taken: boolean, why?: string) => attempts.push({ input, status, by: "ums", letThrough: taken, why });
  for (const [name, headers] of [
    ["no credentials", {}],
    ["malformed basic auth", { authorization: "Basic !!!" }],
    ["bearer token", { authorization: "Bearer x" }],
    ["a forged session cookie", { cookie: "JSESSIONID=00000000000000000000000000000000" }],
  ] as const) {
    const a = await imi.request("GET", ROUTES.thinclients, undefined, headers as Record<string, string>);
    add(`device list with ${name}`, a.status, a.status === 200, "the IMI API answered without a login");
  }
  // A session, then logout: the cookie must be dead.
  const login = await imi.request("POST", ROUTES.login, undefined, { authorization: basic(creds.username, creds.password) });
  const cookie = (JSON.parse(login.text) as { message: string }).message;
  await imi.request("POST", ROUTES.logout, undefined, { cookie });
  const after = await imi.request("GET", ROUTES.thinclients, undefined, { cookie });
  add("a session cookie after logout", after.status, after.status === 200, "the ended session still works");
  // The IMI API from the device side (where the allow-list must hide it).
  for (const t of [ctx.withCert, ctx.noCert]) {
    const r = await rawExchange(t, [`POST ${ROUTES.login} HTTP/1.1\r\n${HOST}Authorization: ${basic(creds.username, creds.password)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`], { quietMs: 800 });
    attempts.push({ input: "IMI login from the device side", status: r.status, by: r.by, letThrough: ctx.allowList && r.status === 200 && r.by !== "alb" && r.by !== "nginx" && r.text.includes("JSESSIONID"), why: "logged in through the device-facing listener" });
  }
  // Password guessing: the lockout must refuse even the right password afterwards. (Last: it locks the account.)
  const guesses = ctx.quick ? 6 : 20;
  for (let i = 0; i < guesses; i++) {
    const a = await imi.request("POST", ROUTES.login, undefined, { authorization: basic(creds.username, `guess-${i}`) });
    add(`wrong password ${i + 1}`, a.status, a.status === 200);
  }
  const right = await imi.request("POST", ROUTES.login, undefined, { authorization: basic(creds.username, creds.password) });
  add(`the right password after ${guesses} wrong ones`, right.status, right.status === 200, "no lockout: guessing goes on at full speed");
  return attempts;
};
