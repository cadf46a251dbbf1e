import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import { classifyRequest, similarity } from "../../simulator/alb/desync-classifier";
import { desyncAction } from "../../simulator/alb/desync-mode";
import { HeadError } from "../../simulator/alb/http-head";
import { parseRequestHead, RequestHead } from "../../simulator/alb/request-head";
import type { DesyncMitigationMode } from "../../core/alb-defaults";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { logLines } from "./helpers/client";
import { RawClient } from "./helpers/raw-client";
import { synthesizeTestStacks, SynthesizedStacks, withLoadBalancerAttributes } from "./helpers/stacks";

/**
 * HTTP Desync Guardian as the emulated ALB applies it: each shape of AWS's classification-reason
 * table ("Access logs" > "Classification reasons") gets AWS's classification, and each mode
 * ("Desync mitigation mode") allows, allows-then-closes or blocks as AWS's table says, with the
 * classification and its reason in the access log.
 */

function head(text: string): RequestHead {
  const h = parseRequestHead(text);
  if (h instanceof HeadError) throw new Error(`unreadable: ${h.reason}`);
  return h;
}

const POST = "POST /x HTTP/1.1\r\nHost: h\r\n";

describe("classification, shape by shape (AWS's reason codes)", () => {
  test.each([
    ["a compliant GET", "GET /x HTTP/1.1\r\nHost: h\r\n\r\n", "Compliant", undefined],
    ["a compliant POST with a length", `${POST}Content-Length: 3\r\n\r\n`, "Compliant", undefined],
    ["GET with Content-Length: 0", "GET /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "Acceptable", "GetHeadZeroContentLength"],
    ["a control character in a header value", `${POST}X-A: a\u0001b\r\n\r\n`, "Acceptable", "NonCompliantHeader"],
    ["a space before a header's colon", `${POST}X-Custom : 1\r\n\r\n`, "Acceptable", "NonCompliantHeader"],
    ["HTTP/1.2", "GET /x HTTP/1.2\r\n\r\n", "Acceptable", "NonCompliantVersion"],
    ["a space in the target", "GET /a b HTTP/1.1\r\n\r\n", "Acceptable", "SpaceInUri"],
    ["GET with Content-Length: 5", "GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "Ambiguous", "UndefinedContentLengthSemantics"],
    ["GET with Transfer-Encoding", "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "Ambiguous", "UndefinedTransferEncodingSemantics"],
    ["HTTP/1.0 with Transfer-Encoding", "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Ambiguous", "UndefinedTransferEncodingSemantics"],
    ["Content-Length and Transfer-Encoding", `${POST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, "Ambiguous", "BothTeClPresent"],
    ["the same Content-Length twice", `${POST}Content-Length: 3\r\nContent-Length: 3\r\n\r\n`, "Ambiguous", "DuplicateContentLength"],
    ["an empty header name", `${POST}: x\r\n\r\n`, "Ambiguous", "EmptyHeader"],
    ["Transfer-Encoding with a space before the colon", `${POST}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n`, "Ambiguous", "SuspiciousHeader"],
    ["Transfer_Encoding", `${POST}Transfer_Encoding: chunked\r\n\r\n`, "Ambiguous", "SuspiciousHeader"],
    ["Content-Length after a control character", `${POST}\u0001Content-Length: 3\r\n\r\n`, "Ambiguous", "SuspiciousHeader"],
    ["Transfer-Encoding folded onto a continuation line", `${POST}X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n`, "Ambiguous", "SuspiciousHeader"],
    ["a dotless i in Transfer-Encoding", `${POST}Transfer-Encod\u00c4\u00b1ng: chunked\r\n\r\n`, "Ambiguous", "SuspiciousHeader"],
    ["a control character in the target", "GET /a\u0001b HTTP/1.1\r\n\r\n", "Ambiguous", "AmbiguousUri"],
    ["Content-Length 5 and 6", `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, "Severe", "MultipleContentLength"],
    ["a Content-Length list", `${POST}Content-Length: 5, 5\r\n\r\n`, "Severe", "BadContentLength"],
    ["a signed Content-Length", `${POST}Content-Length: +5\r\n\r\n`, "Severe", "BadContentLength"],
    ["chunked twice", `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n`, "Severe", "MultipleTransferEncodingChunked"],
    ["an unknown transfer coding", `${POST}Transfer-Encoding: xchunked\r\n\r\n`, "Severe", "BadTransferEncoding"],
    ["a NUL in a header", `${POST}X-A: a\u0000b\r\n\r\n`, "Severe", "BadHeader"],
    ["a bare CR in a header", `${POST}X-A: a\rb\r\n\r\n`, "Severe", "BadHeader"],
    ["a NUL in the target", "GET /a\u0000b HTTP/1.1\r\n\r\n", "Severe", "BadUri"],
    ["a malformed method", "GE(T /x HTTP/1.1\r\n\r\n", "Severe", "BadMethod"],
    ["a malformed version", "GET /x HTTP/1.x\r\n\r\n", "Severe", "BadVersion"],
    // edge-cases of the library: a lesser finding never hides a worse one
    ["a non-compliant header before a bad Content-Length", `${POST}X-A: \u0012\r\nContent-Length: 1000\u0011\r\n\r\n`, "Severe", "BadContentLength"],
  ])("%s", (_what, text, classification, reason) => {
    expect(classifyRequest(head(text))).toMatchObject({ classification, reason });
  });

  test("header names are compared by their letters: identical, the same letters, or distant", () => {
    expect(similarity("transfer-encoding", "Transfer-Encoding")).toBe("identical");
    expect(similarity("transfer-encoding", "TRANSFER_ENCODING")).toBe("same-letters");
    expect(similarity("content-length", "Content-Length\t")).toBe("same-letters");
    expect(similarity("content-length", "X-Content-Length")).toBe("distant");
    expect(similarity("content-length", "Content-Lengthy")).toBe("distant");
    expect(similarity("content-length", "Content")).toBe("distant");
  });
});

describe("the modes table", () => {
  const table: Record<DesyncMitigationMode, string[]> = {
    monitor: ["allow", "allow", "allow", "allow"],
    defensive: ["allow", "allow", "allow-then-close", "block"],
    strictest: ["allow", "block", "block", "block"],
  };
  test.each(Object.entries(table))("%s", (mode, actions) => {
    expect((["Compliant", "Acceptable", "Ambiguous", "Severe"] as const).map((c) => desyncAction(mode as DesyncMitigationMode, c))).toEqual(actions);
  });
});

describe("through the emulated ALB, per mode", () => {
  let pki: LabPki;
  let synth: SynthesizedStacks;
  let echo: EchoTarget;
  const albs = new Map<DesyncMitigationMode, StartedAlbEmulator>();
  const dirs: string[] = [];

  beforeAll(async () => {
    pki = await testLabPki();
    synth = await synthesizeTestStacks([{ variant: "icg-alb-verify" }]);
    echo = await startEchoTarget(pki);
    for (const mode of ["monitor", "defensive", "strictest"] as const) {
      const dir = withLoadBalancerAttributes(synth.stacks["icg-alb-verify"], { desync_mitigation_mode: mode });
      const logs = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-desync-"));
      dirs.push(dir, logs);
      albs.set(mode, await new AlbEmulator({ stackDir: dir, target: echo.address, ports: { 8443: 0, 443: 0 }, logsDir: logs }).start());
    }
  });

  afterAll(async () => {
    await Promise.all([...albs.values()].map((a) => a.stop()));
    await echo?.close();
    synth?.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function send(mode: DesyncMitigationMode, request: string) {
    const c = await RawClient.connect(albs.get(mode)!.listenerUrl(443));
    c.send(request);
    const r = await c.next();
    const closed = await Promise.race([c.closed.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 500))]);
    c.close();
    return { ...r, closed };
  }

  /** Classification fields (28th and 29th) of the access-log entry for `marker`. */
  async function logged(mode: DesyncMitigationMode, marker: string): Promise<string[]> {
    const alb = albs.get(mode)!;
    await alb.flushLogs();
    const entry = logLines(alb.accessLogDir, "access").find((f) => f[12].includes(marker));
    expect(entry).toBeDefined();
    return [entry![8], entry![27], entry![28]];
  }

  const ambiguous = (marker: string) => `POST /${marker} HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`;

  test("Ambiguous (both Content-Length and Transfer-Encoding): monitor routes it, defensive routes it and closes, strictest blocks it", async () => {
    const monitor = await send("monitor", ambiguous("amb-monitor"));
    expect([monitor.status, monitor.closed]).toEqual([200, false]);
    const seen = JSON.parse(monitor.body.toString()) as EchoReply;
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which is not passed on.
    expect([seen.body, seen.headers["content-length"], seen.headers["transfer-encoding"]]).toEqual(["abc", undefined, "chunked"]);
    const defensive = await send("defensive", ambiguous("amb-defensive"));
    expect([defensive.status, defensive.headers.connection, defensive.closed]).toEqual([200, "close", true]);
    const strictest = await send("strictest", ambiguous("amb-strictest"));
    expect([strictest.status, strictest.headers.connection, strictest.closed]).toEqual([400, "close", true]);
    expect(strictest.headers["x-alb-emulator-reason"]).toMatch(/desync mitigation \(strictest mode\) blocked a request classified Ambiguous \(BothTeClPresent/);
    for (const [mode, status] of [["monitor", "200"], ["defensive", "200"], ["strictest", "400"]] as const) {
      expect(await logged(mode, `amb-${mode}`)).toEqual([status, "Ambiguous", "BothTeClPresent"]);
    }
  });

  test("Acceptable (GET with Content-Length: 0): allowed and kept alive in monitor and defensive, blocked in strictest", async () => {
    const request = (m: string) => `GET /acc-${m} HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n`;
    expect((await send("monitor", request("monitor"))).closed).toBe(false);
    const defensive = await send("defensive", request("defensive"));
    expect([defensive.status, defensive.closed]).toEqual([200, false]);
    expect((await send("strictest", request("strictest"))).status).toBe(400);
    expect(await logged("defensive", "acc-defensive")).toEqual(["200", "Acceptable", "GetHeadZeroContentLength"]);
  });

  test("Severe (a NUL in a header): blocked with 400 in defensive and strictest; monitor passes it on and the target answers", async () => {
    const request = (m: string) => `GET /sev-${m} HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n`;
    const monitor = await send("monitor", request("monitor"));
    expect(monitor.headers["x-alb-emulator-reason"]).toBeUndefined(); // not the load balancer's answer
    for (const mode of ["defensive", "strictest"] as const) {
      const r = await send(mode, request(mode));
      expect([r.status, r.closed, r.headers.server]).toEqual([400, true, "awselb/2.0"]);
      expect(await logged(mode, `sev-${mode}`)).toEqual(["400", "Severe", "BadHeader"]);
    }
  });

  test("a compliant request logs '-' for classification and reason", async () => {
    const r = await send("strictest", "GET /compliant HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(r.status).toBe(200);
    expect(await logged("strictest", "compliant")).toEqual(["200", "-", "-"]);
  });

  test("a body length nobody can know is refused even in monitor mode; an unknown coding gets AWS's 501 there", async () => {
    const conflicting = await send("monitor", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
    expect(conflicting.status).toBe(400);
    expect(conflicting.headers["x-alb-emulator-reason"]).toMatch(/body length cannot be known/);
    const unknown = await send("monitor", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n");
    expect(unknown.status).toBe(501);
    expect((await send("defensive", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n")).status).toBe(400);
  });
});
