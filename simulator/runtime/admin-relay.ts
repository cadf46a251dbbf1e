#!/usr/bin/env node
/**
 * The admin's vantage point in the namespace runtime: a process on the private side (where the UMS
 * admin API is reachable, as from a company network) that performs IMI requests for the simulation
 * and answers over its stdio — a pipe, not a network path, so no security-group rule is opened for it.
 * One JSON request a line on stdin, one JSON answer a line on stdout.
 */
import { createInterface } from "node:readline";
import { ImiClient, ImiClientOptions } from "../ums/imi-client";

export interface RelayRequest {
  readonly id: number;
  readonly client: ImiClientOptions;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export type RelayAnswer =
  | { readonly id: number; readonly status: number; readonly headers: Record<string, string | string[] | undefined>; readonly text: string }
  | { readonly id: number; readonly error: string };

if (require.main === module) {
  const clients = new Map<string, ImiClient>();
  const out = (a: RelayAnswer) => process.stdout.write(`${JSON.stringify(a)}\n`);
  process.stdout.write(`${JSON.stringify({ event: "ready", component: "admin-relay", pid: process.pid })}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    let req: RelayRequest;
    try {
      req = JSON.parse(line) as RelayRequest;
    } catch {
      return;
    }
    const key = JSON.stringify(req.client);
    let client = clients.get(key);
    if (!client) clients.set(key, (client = new ImiClient(req.client)));
    client.request(req.method, req.path, req.body, req.headers ?? {}).then(
      (a) => out({ id: req.id, status: a.status, headers: a.headers as Record<string, string | string[] | undefined>, text: a.text }),
      (e: Error) => out({ id: req.id, error: e.message }),
    );
  });
  process.stdin.on("end", () => process.exit(0));
}
