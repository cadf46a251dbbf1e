import * as fs from "node:fs";
import * as tls from "node:tls";
import { answeredBy } from "../../simulator/scenarios/probes";

/**
 * One TLS connection that writes bytes exactly as given (no client-side normalisation, no framing
 * of its own) and reads everything the other side sends until it closes or goes quiet: what a
 * probe needs to send malformed heads, smuggling shapes and path tricks, and to see every response
 * that came back (a smuggled request's answer shows up as a second response).
 */

export interface RawIdentity {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface RawTarget {
  readonly url: string;
  readonly serverName: string;
  readonly caFile: string;
  readonly identity?: RawIdentity;
}

export interface RawResult {
  /** Status of the first response, if one came. */
  readonly status?: number;
  /** Every status line's code, in order (pipelined or smuggled answers included). */
  readonly statuses: number[];
  /** Who answered the first response: alb, nginx, ums, icg (or undefined). */
  readonly by?: string;
  /** All bytes received, latin1. */
  readonly text: string;
  /** The TLS handshake or the connection failed before any byte came back. */
  readonly error?: string;
}

function firstResponse(text: string): { status?: number; headers: Record<string, string>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  if (!text.startsWith("HTTP/1.") || end < 0) return { headers: {}, body: "" };
  const lines = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers["content-length"] ?? NaN);
  const body = Number.isFinite(length) ? text.slice(end + 4, end + 4 + length) : text.slice(end + 4);
  return { status: Number(lines[0].slice(9, 12)), headers, body };
}

/** Sends `parts` (with `gapMs` between them) and collects the answer; closes after `quietMs` without data or `maxMs` in all. */
export function rawExchange(t: RawTarget, parts: ReadonlyArray<string | Buffer>, o: { gapMs?: number; quietMs?: number; maxMs?: number } = {}): Promise<RawResult> {
  const u = new URL(t.url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let error: string | undefined;
    const socket = tls.connect({
      host: u.hostname,
      port: Number(u.port || 443),
      servername: t.serverName,
      ca: fs.readFileSync(t.caFile),
      ...(t.identity ? { cert: fs.readFileSync(t.identity.certFile), key: fs.readFileSync(t.identity.keyFile) } : {}),
    });
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(quiet);
      clearTimeout(max);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const first = firstResponse(text);
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ status: first.status, statuses, by: first.status === undefined ? undefined : answeredBy({ headers: first.headers, body: first.body }), text, error: chunks.length === 0 ? error : undefined });
    };
    let quiet = setTimeout(finish, o.quietMs ?? 1500);
    const max = setTimeout(finish, o.maxMs ?? 8000);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      clearTimeout(quiet);
      quiet = setTimeout(finish, o.quietMs ?? 1500);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      finish();
    });
    socket.on("close", finish);
    socket.once("secureConnect", async () => {
      for (const [i, part] of parts.entries()) {
        if (settled || socket.destroyed) return;
        if (i > 0 && o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        socket.write(part);
      }
    });
  });
}
