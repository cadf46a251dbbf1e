import * as fs from "node:fs";
import { MTLS_HEADER_DISPLAY } from "../../core/aws-headers";
import { encodeUrlAws } from "../../simulator/protocol/forwarded-cert";
import { ROUTES } from "../../simulator/protocol/routes";
import { REVERSE_PROXY_HEADER } from "../../simulator/runtime/lab";
import { DOT_DOT_SPELLINGS, traversalTargets } from "../../simulator/scenarios/traversal-shapes";
import { Attempt, CategoryRun, reachedImi } from "./probe-model";
import { rawExchange, RawResult, RawTarget } from "./raw-exchange";

/**
 * Probe categories at the HTTP level, every input sent as raw bytes: malformed heads, request
 * smuggling shapes, slow clients, path tricks and spoofed identity headers.
 */

const HOST = "Host: ums.probe\r\n";
/** A request for the IMI server status, hidden where a front and a backend might disagree. */
const SMUGGLED = `GET ${ROUTES.serverStatus} HTTP/1.1\r\n${HOST}\r\n`;

/** Runs inputs a few at a time (the machine is small; the targets are shared). */
async function each<T, R>(items: readonly T[], run: (item: T) => Promise<R>, parallel = 4): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await run(items[i]);
      }
    }),
  );
  return out;
}

function attempt(input: string, r: RawResult, letThrough: boolean, why?: string, explained: readonly number[] = []): Attempt {
  return { input, status: r.status, by: r.by, letThrough, why, explained5xx: r.status !== undefined && explained.includes(r.status) };
}

/** Documented 5xx answers to malformed input: AWS's 501 (Transfer-Encoding) and 505 (an HTTP/2 request line); the same codes from nginx. */
const DOCUMENTED_5XX = [501, 505];

interface Shape {
  readonly name: string;
  readonly bytes: string | Buffer;
  /** A 2xx from the backend means the malformed input was served. */
  readonly mustFail?: boolean;
}

const MALFORMED: readonly Shape[] = [
  { name: "empty lines only", bytes: "\r\n\r\n\r\n" },
  { name: "garbage request line", bytes: "GARBAGE\r\n\r\n", mustFail: true },
  { name: "method only", bytes: "GET\r\n\r\n", mustFail: true },
  { name: "HTTP/0.9", bytes: "GET /info\r\n", mustFail: true },
  { name: "HTTP/9.9", bytes: `GET /device-connector/v1/onboard HTTP/9.9\r\n${HOST}\r\n`, mustFail: true },
  { name: "HTTP/2.0 request line", bytes: `GET /device-connector/v1/onboard HTTP/2.0\r\n${HOST}\r\n`, mustFail: true },
  { name: "lower-case version", bytes: `GET /device-connector/v1/onboard http/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "NUL in the method", bytes: `G\u0000T /device-connector/ HTTP/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "NUL in the target", bytes: `GET /device-con\u0000nector/ HTTP/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "bare LF line ends", bytes: "GET /device-connector/ HTTP/1.1\nHost: x\n\n", mustFail: true },
  { name: "bare CR in a header", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}X-A: a\rb\r\n\r\n`, mustFail: true },
  { name: "header line without a colon", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}Broken header\r\n\r\n`, mustFail: true },
  { name: "empty header name", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}: x\r\n\r\n` },
  { name: "control characters in a value", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}X-A: \u0001\u0002\r\n\r\n` },
  { name: "20 KB request line", bytes: `GET /device-connector/${"a".repeat(20_000)} HTTP/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "70 KB of headers", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}${"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(1100)}\r\n`, mustFail: true },
  { name: "1,000 small headers", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}${"X: 1\r\n".repeat(1000)}\r\n` },
  { name: "random binary", bytes: Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 131 + 7) % 256)), mustFail: true },
  { name: "negative Content-Length", bytes: `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Content-Length: -1\r\n\r\n`, mustFail: true },
  { name: "20-digit Content-Length", bytes: `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Content-Length: 99999999999999999999\r\n\r\n`, mustFail: true },
  { name: "malformed chunk size", bytes: `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`, mustFail: true },
  { name: "chunk size of 2^64", bytes: `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab\r\n`, mustFail: true },
  { name: "TRACE", bytes: `TRACE /device-connector/ HTTP/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "CONNECT", bytes: `CONNECT ums.probe:8443 HTTP/1.1\r\n${HOST}\r\n`, mustFail: true },
  { name: "OPTIONS *", bytes: `OPTIONS * HTTP/1.1\r\n${HOST}\r\n` },
  { name: "unsupported Transfer-Encoding (gzip)", bytes: `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip\r\n\r\n`, mustFail: true },
  { name: "31 X-Forwarded-For addresses", bytes: `GET /device-connector/ HTTP/1.1\r\n${HOST}X-Forwarded-For: ${Array.from({ length: 31 }, (_, i) => `10.0.0.${i}`).join(", ")}\r\n\r\n` },
];

export const malformedHttp: CategoryRun = async (ctx) => {
  const shapes = ctx.quick ? MALFORMED.filter((_, i) => i % 3 === 0) : MALFORMED;
  return each(shapes, async (s) => {
    const r = await rawExchange(ctx.noCert, [s.bytes], { quietMs: 800 });
    const served = s.mustFail === true && r.status !== undefined && r.status < 300 && (r.by === "ums" || r.by === "icg");
    return attempt(s.name, r, served || (ctx.allowList && reachedImi(r.text)), served ? `answered ${r.status} by ${r.by}` : undefined, DOCUMENTED_5XX);
  });
};

/** Smuggling shapes: each hides SMUGGLED where a lenient backend could read it as a request of its own. */
function smuggling(): Shape[] {
  const post = `POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}`;
  const chunkOf = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n0\r\n\r\n`;
  const n = Buffer.byteLength(`0\r\n\r\n${SMUGGLED}`);
  return [
    { name: "CL.TE", bytes: `${post}Content-Length: ${n}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "TE.CL", bytes: `${post}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunkOf(SMUGGLED)}` },
    { name: "TE with a space before the colon", bytes: `${post}Transfer-Encoding : chunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "TE: xchunked", bytes: `${post}Transfer-Encoding: xchunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "TE twice (chunked, identity)", bytes: `${post}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "TE with a tab", bytes: `${post}Transfer-Encoding:\tchunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "TE on a folded line", bytes: `${post}X-A: 1\r\n Transfer-Encoding: chunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "Transfer_Encoding", bytes: `${post}Transfer_Encoding: chunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "two different Content-Lengths", bytes: `${post}Content-Length: ${n}\r\nContent-Length: 0\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "Content-Length list", bytes: `${post}Content-Length: 0, ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
    { name: "GET with a body", bytes: `GET /device-connector/x HTTP/1.1\r\n${HOST}Content-Length: ${Buffer.byteLength(SMUGGLED)}\r\n\r\n${SMUGGLED}` },
    { name: "chunk extension and trailer", bytes: `${post}Transfer-Encoding: chunked\r\n\r\n0;ext=${"x".repeat(20)}\r\nX-Trailer: ${SMUGGLED.replace(/\r\n/g, " ")}\r\n\r\n` },
    { name: "pipelined request outside the allow-list (control)", bytes: `GET /device-connector/x HTTP/1.1\r\n${HOST}\r\n${SMUGGLED}` },
    { name: "HTTP/1.0 with TE", bytes: `POST /device-connector/v1/onboard HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: ${n}\r\n\r\n0\r\n\r\n${SMUGGLED}` },
  ];
}

export const smugglingShapes: CategoryRun = async (ctx) => {
  const shapes = ctx.quick ? smuggling().slice(0, 5) : smuggling();
  return each(shapes, async (s) => {
    const r = await rawExchange(ctx.noCert, [s.bytes], { quietMs: 800 });
    const smuggled = ctx.allowList && reachedImi(r.text);
    return attempt(s.name, r, smuggled, smuggled ? "the hidden request's answer (IMI server status) came back" : undefined, DOCUMENTED_5XX);
  });
};

/** Slow clients: heads and bodies trickling in must not hold the listener; a normal request is served meanwhile. */
export const slowClients: CategoryRun = async (ctx) => {
  const count = ctx.quick ? 10 : 40;
  const slow = Array.from({ length: count }, (_, i) =>
    i % 4 === 3
      ? rawExchange(ctx.noCert, [`POST /device-connector/v1/onboard HTTP/1.1\r\n${HOST}Content-Length: 1000\r\n\r\n{"a":`], { quietMs: 2500, maxMs: 2500 })
      : rawExchange(ctx.noCert, ["GET /device-connector/v1/ws HTTP/1.1\r\nHo", "s", "t"], { gapMs: 800, quietMs: 2500, maxMs: 2500 }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  const normal = await rawExchange(ctx.noCert, [`GET ${ROUTES.onboard} HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`], { quietMs: 3000, maxMs: 3000 });
  const held = normal.status === undefined;
  const attempts: Attempt[] = [attempt("a normal request while slow clients are connected", normal, held, held ? `no answer within ${Date.now() - t0} ms` : undefined)];
  for (const [i, r] of (await Promise.all(slow)).entries()) attempts.push(attempt(i % 4 === 3 ? "slow body" : "slow head", r, false));
  return attempts;
};

/** Path tricks: every traversal shape, and other spellings of the IMI path, with and without a device certificate. */
export const pathTricks: CategoryRun = async (ctx) => {
  const imi = ROUTES.serverStatus.slice(1);
  const extras = [
    `/${imi}`,
    `//${imi}`,
    `/UMSAPI/v3/serverstatus`,
    `/%75msapi/v3/serverstatus`,
    `/device-connector%2f..%2f${imi}`,
    `/device-connector/v1/../../${imi}`,
    `/device-connector/%252e%252e/${imi}`,
    `/device-connector/%c0%ae%c0%ae/${imi}`,
    `/device-connector/..%00/${imi}`,
    `https://ums.probe/${imi}`,
    `/device-connector/../${imi}?x=/device-connector/`,
  ];
  const shapes = ctx.quick ? [...traversalTargets().filter((_, i) => i % DOT_DOT_SPELLINGS.length < 3), ...extras.slice(0, 4)] : [...traversalTargets(), ...extras];
  const targets: Array<[string, RawTarget]> = [["with a device certificate", ctx.withCert]];
  if (ctx.noCert.url !== ctx.withCert.url) targets.push(["without a certificate", ctx.noCert]);
  const jobs = targets.flatMap(([name, t]) => shapes.map((s) => ({ name, t, s })));
  return each(jobs, async ({ name, t, s }) => {
    const r = await rawExchange(t, [`GET ${s} HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`], { quietMs: 800 });
    const reached = ctx.allowList && reachedImi(r.text);
    return attempt(`${s} (${name})`, r, reached, reached ? "the IMI server status answered" : undefined);
  }, 6);
};

/** Spoofed identity headers on the WebSocket and the update proxy, without a client certificate. */
export const headerSpoofing: CategoryRun = async (ctx) => {
  const leaf = encodeUrlAws(fs.readFileSync(ctx.lab.pki.devices.good.cert, "utf8"));
  const chain = encodeUrlAws(fs.readFileSync(ctx.lab.pki.devices.good.chain, "utf8"));
  const spoofs: Array<[string, string]> = [
    ["leaf header", `${MTLS_HEADER_DISPLAY.leaf}: ${leaf}`],
    ["chain header", `${MTLS_HEADER_DISPLAY.clientcert}: ${chain}`],
    ["nginx's header", `${REVERSE_PROXY_HEADER}: ${leaf}`],
    ["lower-case leaf header", `${MTLS_HEADER_DISPLAY.leaf.toLowerCase()}: ${leaf}`],
    ["leaf header with underscores", `${MTLS_HEADER_DISPLAY.leaf.replace(/-/g, "_")}: ${leaf}`],
    ["leaf header with a space before the colon", `${MTLS_HEADER_DISPLAY.leaf} : ${leaf}`],
    ["every header twice", `${MTLS_HEADER_DISPLAY.leaf}: ${leaf}\r\n${MTLS_HEADER_DISPLAY.leaf}: ${leaf}\r\n${MTLS_HEADER_DISPLAY.clientcert}: ${chain}\r\n${REVERSE_PROXY_HEADER}: ${leaf}`],
    ["forwarded-for and proto of the UMS itself", `X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Real-IP: 127.0.0.1`],
  ];
  const used = ctx.quick ? spoofs.slice(0, 3) : spoofs;
  const ws = (extra: string) => `GET ${ROUTES.deviceSocket} HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n\r\n`;
  const app = (extra: string) => `GET ${ROUTES.appProxy}/probe/1.0 HTTP/1.1\r\n${HOST}Connection: close\r\n${extra}\r\n\r\n`;
  const jobs = used.flatMap(([name, header]) => [
    { name: `${name} on the device WebSocket`, bytes: ws(header), ok: (r: RawResult) => r.status === 101, explained: [] as number[] },
    // An ICG answers the update proxy with 501 whoever asks: devices use the App Portal there (documented).
    { name: `${name} on the update proxy`, bytes: app(header), ok: (r: RawResult) => r.status === 200, explained: ctx.topology.definition.backend === "icg" ? [501] : [] },
  ]);
  return each(jobs, async (j) => {
    const r = await rawExchange(ctx.noCert, [j.bytes], { quietMs: 800 });
    const taken = j.ok(r);
    return attempt(j.name, r, taken, taken ? `accepted as the device (${r.status})` : undefined, j.explained);
  });
};
