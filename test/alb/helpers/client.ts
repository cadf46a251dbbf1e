import * as fs from "node:fs";
import * as https from "node:https";
import type { CertificateFiles } from "../../../simulator/pki/lab-pki";

/** One request on a new connection, optionally presenting a client certificate chain. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function request(url: string, options: { cert?: CertificateFiles; headers?: Record<string, string>; method?: string; body?: string; maxVersion?: "TLSv1.2" | "TLSv1.3" } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? "GET",
        rejectUnauthorized: false,
        agent: false,
        headers: options.headers,
        maxVersion: options.maxVersion,
        // Security level 0: the client must be able to present the lab's weak certificates (SHA-1, RSA-1024).
        ...(options.cert ? { key: fs.readFileSync(options.cert.key), cert: fs.readFileSync(options.cert.chain), ciphers: "DEFAULT:@SECLEVEL=0" } : {}),
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

/** Lines (as fields) of every log file of a kind under `dir`: delivered .log.gz objects and live tails. */
export { logFields as logLines } from "../../../simulator/alb/log-reader";
