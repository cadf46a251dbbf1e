import * as fs from "node:fs";
import * as https from "node:https";
import { ROUTES } from "../protocol/routes";
import type { CommandName } from "../protocol/messages";
import type { CommandState, ImiCommandExec, ImiCommandExecList, ImiEnrollmentKeys, ImiLoginResponse, ImiServerStatus, ImiThinClient } from "../protocol/imi";
import type { Refusal } from "../protocol/onboarding";
import type { AdminCredentials } from "./admin-auth";

/**
 * A client of the IMI-shaped admin API, for scenarios, benches and tests: logs in once (session
 * cookie), then lists devices, sends commands and reads their state. Works against the mock UMS
 * and, for the IMI subset IGEL documents, against a real one.
 */

export interface ImiClientOptions {
  /** The UMS address, e.g. `https://127.0.0.1:8443` (without `/umsapi`). */
  readonly baseUrl: string;
  /** PEM file of the CA that issued the UMS web certificate. @default the system trust store */
  readonly caFile?: string;
  /** TLS server name (SNI and certificate check). @default the host of `baseUrl` */
  readonly serverName?: string;
  /** @default { username: "admin", password: "ums-edge-lab" } */
  readonly credentials?: AdminCredentials;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export class ImiHttpError extends Error {
  constructor(
    readonly status: number,
    readonly refusal: Refusal | undefined,
    text: string,
  ) {
    super(`IMI answered ${status}: ${refusal?.reason ?? text.slice(0, 200)}`);
  }
}

const FINISHED: readonly CommandState[] = ["SUCCESS", "FAILED"];

export class ImiClient {
  private cookie?: string;
  private readonly ca?: string;
  private readonly base: URL;

  constructor(private readonly options: ImiClientOptions) {
    this.base = new URL(options.baseUrl);
    this.ca = options.caFile ? fs.readFileSync(options.caFile, "utf8") : undefined;
  }

  /** One HTTPS request, no session handling; for tests of bad input. */
  request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.base.hostname.replace(/^\[|\]$/g, ""),
          port: this.base.port || 443,
          method,
          path,
          ca: this.ca,
          // The CA given is an anchor even when it is not a root (an administrator's intermediate).
          allowPartialTrustChain: true,
          servername: this.options.serverName ?? this.base.hostname,
          agent: false,
          headers: { ...(body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  private basicAuth(): string {
    const c = this.options.credentials ?? { username: "admin", password: "ums-edge-lab" };
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  }

  async login(): Promise<void> {
    const answer = await this.request("POST", ROUTES.login, undefined, { authorization: this.basicAuth() });
    const body = this.parse<ImiLoginResponse>(answer);
    this.cookie = body.message;
  }

  private parse<T>(answer: HttpAnswer): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    if (answer.status < 200 || answer.status >= 300) {
      const refusal = json && typeof json === "object" && "reason" in json ? (json as Refusal) : undefined;
      throw new ImiHttpError(answer.status, refusal, answer.text);
    }
    if (json === undefined) throw new ImiHttpError(answer.status, undefined, `not JSON: ${answer.text.slice(0, 200)}`);
    return json as T;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.cookie) await this.login();
    return this.parse<T>(await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), { cookie: this.cookie! }));
  }

  serverStatus(): Promise<ImiServerStatus> {
    return this.request("GET", ROUTES.serverStatus).then((a) => this.parse<ImiServerStatus>(a));
  }

  thinclients(): Promise<ImiThinClient[]> {
    return this.call("GET", ROUTES.thinclients);
  }

  thinclient(id: string): Promise<ImiThinClient & { settings: Record<string, unknown>; enrolledBy: string }> {
    return this.call("GET", `${ROUTES.thinclients}/${encodeURIComponent(id)}`);
  }

  /** The device with this unit id, once the UMS knows it. */
  async byUnitId(unitId: string): Promise<ImiThinClient | undefined> {
    return (await this.thinclients()).find((t) => t.unitID === unitId);
  }

  async command(command: CommandName, deviceIds: readonly string[], settings?: Readonly<Record<string, string | number | boolean>>): Promise<ImiCommandExec[]> {
    const body = deviceIds.map((id) => ({ id, type: "tc" as const, ...(settings ? { settings } : {}) }));
    const answer = await this.call<ImiCommandExecList>("POST", `${ROUTES.thinclients}?command=${command}`, body);
    return [...answer.CommandExecList];
  }

  commandState(execId: string): Promise<ImiCommandExec> {
    return this.call("GET", `${ROUTES.commands}/${encodeURIComponent(execId)}`);
  }

  /** Polls a command until it reaches SUCCESS or FAILED (or one of `states`). */
  async waitForCommand(execId: string, timeoutMs = 10_000, states: readonly CommandState[] = FINISHED, pollMs = 25): Promise<ImiCommandExec> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.commandState(execId);
      if (states.includes(state.state)) return state;
      if (Date.now() > deadline) throw new Error(`command ${execId} is still ${state.state} after ${timeoutMs} ms (${state.message})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async mintEnrollmentKeys(count: number): Promise<string[]> {
    const answer = await this.call<ImiEnrollmentKeys>("POST", ROUTES.enrollmentKeys, { count });
    return [...answer.keys];
  }
}
