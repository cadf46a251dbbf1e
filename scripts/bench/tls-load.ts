/**
 * The benchmark's load generator, run as its own process: `node tls-load.js '<json GenConfig>'`.
 * wrk cannot present a client certificate, so this is a lean Node client on raw TLS sockets (no
 * http module: a constant request buffer, responses framed by Content-Length). Two modes:
 * - connections: every request on a new mTLS connection (full handshake, no session reuse);
 * - requests: requests back to back on kept-alive connections (measured once all are established).
 * Prints one JSON line when done: { completed, completedAll, errors, seconds, cpuSeconds, firstError }.
 */
import * as fs from "node:fs";
import * as tls from "node:tls";

export interface GenConfig {
  readonly mode: "connections" | "requests";
  readonly host: string;
  readonly port: number;
  readonly keyFile: string;
  /** Client certificate chain (leaf first). */
  readonly certFile: string;
  readonly path: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface GenResult {
  /** Responses within the measuring window. */
  readonly completed: number;
  /** Responses from the first to the last (warm-up included): what the front's whole-run CPU time served. */
  readonly completedAll: number;
  readonly errors: number;
  readonly seconds: number;
  /** This generator's own CPU time over the measuring window (1 s per second = one core). */
  readonly cpuSeconds: number;
  readonly firstError?: string;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** Bytes of one complete response at the start of `buf`, or -1 if it is not complete yet. */
function responseLength(buf: Buffer): number {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return -1;
  const head = buf.toString("latin1", 0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) throw new Error(`response without Content-Length: ${head.split("\r\n")[0]}`);
  const total = end + 4 + Number(m[1]);
  return buf.length >= total ? total : -1;
}

function run(c: GenConfig): Promise<GenResult> {
  const key = fs.readFileSync(c.keyFile);
  const cert = fs.readFileSync(c.certFile);
  const keepAlive = c.mode === "requests";
  const request = Buffer.from(`GET ${c.path} HTTP/1.1\r\nHost: ${c.host}:${c.port}\r\nUser-Agent: ums-edge-bench\r\n${keepAlive ? "" : "Connection: close\r\n"}\r\n`);
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let completedAll = 0;
  let errors = 0;
  let firstError: string | undefined;
  const sockets = new Set<tls.TLSSocket>();
  /** Kept-alive connections that have had their first response (their handshake is behind them). */
  let established = 0;
  let onEstablished: () => void = () => {};

  const loop = (): void => {
    if (stopped) return;
    let pending: Buffer = Buffer.alloc(0);
    const socket = tls.connect({ host: c.host, port: c.port, key, cert, rejectUnauthorized: false, servername: "ums.lab.test" }, () => socket.write(request));
    sockets.add(socket);
    let done = false;
    let answered = false;
    const next = (failed: string | undefined) => {
      if (done) return;
      done = true;
      sockets.delete(socket);
      socket.destroy();
      if (failed && measuring) {
        errors++;
        firstError ??= failed;
      }
      // After an error, pause a little so a refusing server does not spin this loop.
      if (failed) setTimeout(loop, 10);
      else setImmediate(loop);
    };
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        let n: number;
        try {
          n = responseLength(pending);
        } catch (e) {
          return next((e as Error).message);
        }
        if (n < 0) return;
        if (!pending.subarray(9, 12).equals(Buffer.from("200"))) return next(`status ${pending.toString("latin1", 9, 12)}`);
        if (measuring) completed++;
        if (!stopped) completedAll++;
        if (keepAlive && !answered) {
          answered = true;
          if (++established >= c.concurrency) onEstablished();
        }
        pending = pending.subarray(n);
        if (!keepAlive) return next(undefined);
        if (stopped) return next(undefined);
        socket.write(request);
      }
    });
    socket.on("error", (e) => next(e.message));
    socket.on("close", () => next(keepAlive && !stopped ? "connection closed" : undefined));
  };

  for (let i = 0; i < c.concurrency; i++) loop();
  // Kept-alive requests are measured once every connection is up (a loaded machine may take longer
  // than the warm-up for the handshakes), or after 20 s at the latest.
  const warm = Promise.all([
    new Promise((r) => setTimeout(r, c.warmupMs)),
    keepAlive ? new Promise<void>((r) => ((onEstablished = r), setTimeout(r, 20_000))) : undefined,
  ]);
  return new Promise((resolve) => {
    void warm.then(() => {
      measuring = true;
      const start = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      setTimeout(() => {
        measuring = false;
        stopped = true;
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        for (const s of sockets) s.destroy();
        resolve({ completed, completedAll, errors, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, firstError });
      }, c.durationMs);
    });
  });
}

if (require.main === module) {
  run(JSON.parse(process.argv[2]) as GenConfig).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  });
}
