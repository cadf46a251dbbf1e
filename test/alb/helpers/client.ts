import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { CertificateFiles } from "../../../simulator/pki/lab-pki";
import { splitLogLine } from "../../../simulator/alb/log-lines";

/** One request on a new connection, optionally presenting a client certificate chain. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function request(url: string, options: { cert?: CertificateFiles; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? "GET",
        rejectUnauthorized: false,
        agent: false,
        headers: options.headers,
        ...(options.cert ? { key: fs.readFileSync(options.cert.key), cert: fs.readFileSync(options.cert.chain) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Lines of every log file under `dir` whose name starts with `prefix` (or not, for access logs). */
export function logLines(dir: string | undefined, kind: "access" | "connection"): string[][] {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => (kind === "connection" ? f.startsWith("conn_log_") : !f.startsWith("conn_log_")))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean))
    .map(splitLogLine);
}
