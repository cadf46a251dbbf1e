import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { WebSocket, RawData, ClientOptions } from "ws";
import { LabPki } from "../pki";
import { certificatesFromPem } from "../../core/pem";
import { closeAndWait } from "../common/ws-close";
import { CLOSE, MessageError } from "../protocol/messages";
import { ROUTES } from "../protocol/routes";
import { UserError } from "../../core/errors";
import {
  TUNNEL_MAX_BYTES,
  closeReason,
  parseIcgToUms,
  HttpRequestMessage,
  IcgToUmsMessage,
  RegisterMessage,
  SessionOpenMessage,
  UmsToIcgMessage,
} from "../protocol/icg-tunnel";
import type { StructuredLogger } from "../common/structured-log";
import { Backoff } from "../common/backoff";
import type { DeviceSessions } from "./device-sessions";
import type { IdentityResolver } from "./identity";
import { refusalBody } from "./refusals";
import { InMemoryHttp } from "./icg-relayed-http";
import { RelayedSocket } from "./icg-relayed-socket";

/**
 * The UMS's side of the ICG topology: the UMS connects OUT to the ICG (mutual TLS: it checks the
 * ICG's certificate and name, and presents its own client certificate), registers its device CA
 * chain and CRL, and keeps that one WebSocket, reconnecting with backoff and jitter. Relayed
 * onboarding runs through the UMS's own request handler, relayed device sockets through its own
 * DeviceSessions — no second implementation — with the chain the ICG verified verified again here.
 */

export interface IcgLinkOptions {
  /** The ICG's address, `https://host:port` (or `wss://`); the UMS connects out to its `/usg/v1/tunnel`. */
  readonly url: string;
  /** The name the ICG certificate must carry (SNI and the check). @default `icg.<the lab PKI's FQDN>` */
  readonly serverName?: string;
  /** PEM file of the CA the ICG certificate must chain to. @default the lab gateway CA (`pki.gatewayCa`) */
  readonly trustedCaFile?: string;
  /** The UMS's client certificate for the tunnel: PEM chain (leaf first) and key. @default the lab's `umsClient` */
  readonly clientCertificate?: { readonly chainFile: string; readonly keyFile: string };
  /** Reconnect delays, ms: exponential with equal jitter. @default { initialMs: 500, maxMs: 30000 } */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Ping interval on the tunnel, ms; an ICG silent for 3 intervals is dropped and reconnected. @default 10000 */
  readonly pingMs?: number;
  /** TLS, upgrade and registration must complete within this, ms. @default 10000 */
  readonly connectTimeoutMs?: number;
}

export interface IcgConnectorDeps {
  readonly pki: LabPki;
  readonly log: StructuredLogger;
  readonly sessions: DeviceSessions;
  readonly identity: IdentityResolver;
  /** The UMS's own HTTP request handler (router): relayed onboarding goes through it. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** What the ICG learns at registration. */
  readonly register: Omit<RegisterMessage, "type">;
}

/** How one connection attempt ended. `config`: a setting is wrong (start fails with it; later it is logged and retried). */
type Attempt =
  | { readonly kind: "up" }
  | { readonly kind: "config"; readonly event: string; readonly message: string; readonly fix: string }
  | { readonly kind: "transient"; readonly event: string; readonly message: string };

/** Node's codes for a server certificate that does not verify (chain, validity, name). */
const CERT_ERROR = /CERT|SIGNATURE|ISSUER|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY/;
/** Relayed as HTTP: onboarding only — the UMS's API and web app are not exposed through an ICG. */
const RELAYED_HTTP = new Set([`POST ${ROUTES.onboard}`]);

function read(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`icg: cannot read ${what} '${file}' (${(e as NodeJS.ErrnoException).code})`);
  }
}

export class IcgConnector {
  private readonly tunnelUrl: string;
  private readonly peer: { address: string; port: number };
  private readonly serverName: string;
  private readonly caFile: string;
  private readonly certFile: string;
  private readonly tls: { ca: string; cert: string; key: string };
  private readonly http: InMemoryHttp;
  private readonly relayed = new Map<string, RelayedSocket>();
  private ws?: WebSocket;
  /** What the ICG learns at registration; updateTrust() changes it. */
  private registration: Omit<RegisterMessage, "type">;
  private up = false;
  private stopped = false;
  private readonly backoff: Backoff;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private lastHeard = 0;

  constructor(
    private readonly options: IcgLinkOptions,
    private readonly deps: IcgConnectorDeps,
  ) {
    this.registration = deps.register;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new UserError(`icg: 'url' is not a URL (got '${options.url}')\n  fix: give the ICG's address, e.g. https://icg.example.com:8443`);
    }
    if (url.protocol !== "https:" && url.protocol !== "wss:") throw new UserError(`icg: 'url' must be https:// or wss:// (got '${options.url}'): the tunnel is always TLS`);
    const b = options.backoff ?? {};
    if ((b.initialMs !== undefined && !(b.initialMs > 0)) || (b.maxMs !== undefined && !(b.maxMs >= (b.initialMs ?? 500)))) {
      throw new UserError(`icg: 'backoff' needs 0 < initialMs <= maxMs (got ${JSON.stringify(b)})`);
    }
    this.backoff = new Backoff({ initialMs: b.initialMs ?? 500, maxMs: b.maxMs ?? 30_000 });
    this.tunnelUrl = new URL(ROUTES.icgTunnel, `wss://${url.host}`).toString();
    this.peer = { address: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
    this.serverName = options.serverName ?? `icg.${deps.pki.fqdn}`;
    this.caFile = options.trustedCaFile ?? deps.pki.gatewayCa;
    const cert = options.clientCertificate ?? { chainFile: deps.pki.umsClient.chain, keyFile: deps.pki.umsClient.key };
    this.certFile = cert.chainFile;
    this.tls = { ca: read(this.caFile, "the CA file for the ICG certificate"), cert: read(cert.chainFile, "the UMS client certificate"), key: read(cert.keyFile, "the UMS client key") };
    if (!this.tls.ca.includes("-----BEGIN CERTIFICATE-----")) throw new UserError(`icg: '${this.caFile}' holds no PEM certificate to trust the ICG with`);
    this.http = new InMemoryHttp(deps.handler);
  }

  /** The ICG's address as configured. */
  get url(): string {
    return this.options.url;
  }

  /** The tunnel is up and registered. */
  get connected(): boolean {
    return this.up;
  }

  /**
   * The UMS's device CA chain or CRL changed: the ICG hears it now over the tunnel (a device revoked
   * a moment ago is refused at its next connect), and every later registration carries it.
   */
  updateTrust(deviceCaChain: string, crl: string | undefined): void {
    this.registration = { ...this.registration, deviceCaChain, crl };
    if (this.up) this.send({ type: "trust-update", deviceCaChain, ...(crl === undefined ? {} : { crl }) });
  }

  /**
   * The first attempt, before the UMS opens anything else: a wrong setting (an ICG certificate this
   * UMS does not trust, an ICG that refuses this UMS) is a UserError now; an ICG that is not there
   * yet is not — the UMS starts and keeps trying.
   */
  async start(): Promise<void> {
    const outcome = await this.attempt();
    if (outcome.kind === "config") throw new UserError(`icg: ${outcome.message}\n  fix: ${outcome.fix}`);
    if (outcome.kind === "transient") {
      this.deps.log.warn(outcome.event, { url: this.options.url, reason: outcome.message, retryInMs: this.scheduleRetry() });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await closeAndWait(ws, () => {
      if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE.goingAway, "the UMS is stopping");
      else ws.terminate();
    });
  }

  private scheduleRetry(): number {
    // Equal jitter: UMS nodes that lost one ICG together do not come back in lock-step.
    const delay = this.backoff.next();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
    return delay;
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    const outcome = await this.attempt();
    if (outcome.kind === "up" || this.stopped) return;
    const level = outcome.kind === "config" ? "error" : "warn";
    this.deps.log[level](outcome.event, { url: this.options.url, reason: outcome.message, fix: outcome.kind === "config" ? outcome.fix : undefined, retryInMs: this.scheduleRetry() });
  }

  /** One connection: TLS both ways, upgrade, register; resolves once registered or failed. */
  private attempt(): Promise<Attempt> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const ws = new WebSocket(this.tunnelUrl, {
      ca: this.tls.ca,
      cert: this.tls.cert,
      key: this.tls.key,
      servername: this.serverName,
      handshakeTimeout: timeoutMs,
      maxPayload: TUNNEL_MAX_BYTES,
      perMessageDeflate: false,
    } as ClientOptions);
    this.ws = ws;
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (a.kind !== "up") ws.terminate();
        resolve(a);
      };
      const timer = setTimeout(() => settle({ kind: "transient", event: "icg-unreachable", message: `no registered tunnel within ${timeoutMs} ms` }), timeoutMs);
      ws.on("unexpected-response", (req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let refusal: { error?: string; reason?: string; by?: string } = {};
          try {
            refusal = JSON.parse(text);
          } catch {
            refusal = { reason: text.slice(0, 200) };
          }
          const status = res.statusCode ?? 0;
          const said = `HTTP ${status}${refusal.error ? ` ${refusal.error}` : ""}${refusal.by ? ` by ${refusal.by}` : ""}: ${refusal.reason ?? "(no reason given)"}`;
          req.destroy();
          if (status >= 500) return settle({ kind: "transient", event: "icg-unavailable", message: `the ICG at ${this.options.url} answered ${said}` });
          settle({
            kind: "config",
            event: status === 401 || status === 403 ? "icg-refused-ums" : "icg-tunnel-refused",
            message: `the ICG at ${this.options.url} refused this UMS's tunnel (${said})`,
            fix:
              status === 401 || status === 403
                ? `the UMS client certificate '${this.certFile}' must be issued by the CA the ICG trusts for its UMS (the ICG's --ums-ca-file)`
                : `check that ${this.options.url} is an ICG (it has no tunnel at ${ROUTES.icgTunnel})`,
          });
        });
      });
      ws.on("error", (err: NodeJS.ErrnoException) => {
        const code = err.code ?? "";
        if (CERT_ERROR.test(code)) {
          return settle({
            kind: "config",
            event: "icg-certificate-untrusted",
            message: `the ICG at ${this.options.url} presented a certificate this UMS does not trust (${code}: ${err.message})`,
            fix: `the ICG certificate must chain to '${this.caFile}' and carry the name '${this.serverName}' (icg.trustedCaFile / --icg-ca-file, icg.serverName / --icg-server-name)`,
          });
        }
        settle({ kind: "transient", event: "icg-unreachable", message: `cannot reach the ICG at ${this.options.url} (${code || err.message})` });
      });
      ws.on("open", () => {
        this.lastHeard = Date.now();
        this.send({ type: "register", ...this.registration });
      });
      ws.on("pong", () => (this.lastHeard = Date.now()));
      ws.on("message", (data: RawData, isBinary: boolean) => {
        this.lastHeard = Date.now();
        // Closing (a refused frame, stopping): what still arrives is not acted on.
        if (ws.readyState !== WebSocket.OPEN) return;
        const message = this.parse(ws, data, isBinary);
        if (!message) return;
        if (!this.up) {
          if (message.type !== "registered") return this.refuseFrame(ws, CLOSE.badMessage, `expected 'registered' first, got '${message.type}'`);
          this.up = true;
          this.backoff.reset();
          this.deps.log.info("icg-connected", { url: this.options.url, icg: message.serverName, icgVersion: message.icgVersion });
          this.startPing(ws);
          return settle({ kind: "up" });
        }
        this.onMessage(message);
      });
      ws.on("close", (code: number, reason: Buffer) => {
        const text = reason.toString();
        if (!settled) {
          // Closed after the upgrade but before `registered`: the ICG did not accept the registration.
          const refused = code === CLOSE.badMessage || code === CLOSE.policy || code === CLOSE.unsupportedData || code === CLOSE.tooLarge;
          return settle(
            refused
              ? { kind: "config", event: "icg-registration-refused", message: `the ICG closed the tunnel (${code}): ${text}`, fix: "check the UMS's device CA chain and CRL in the lab PKI" }
              : { kind: "transient", event: "icg-unreachable", message: `the ICG closed the tunnel before registering it (${code}${text ? ` ${text}` : ""})` },
          );
        }
        if (this.ws !== ws || !this.up) return;
        this.onTunnelLost(code, text);
      });
    });
  }

  private startPing(ws: WebSocket): void {
    const every = this.options.pingMs ?? 10_000;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > every * 3) {
        this.deps.log.warn("icg-tunnel-silent", { url: this.options.url, silentMs: Date.now() - this.lastHeard });
        return ws.terminate();
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, every);
  }

  private onTunnelLost(code: number, reason: string): void {
    this.up = false;
    clearInterval(this.pingTimer);
    const sockets = [...this.relayed.values()];
    this.relayed.clear();
    for (const s of sockets) s.remoteClosed(CLOSE.goingAway, "the ICG tunnel closed");
    if (this.stopped) return void this.deps.log.info("icg-disconnected", { url: this.options.url, closeCode: code, reason: reason || undefined, relayedSessionsClosed: sockets.length });
    this.deps.log.warn("icg-disconnected", { url: this.options.url, closeCode: code, reason: reason || undefined, relayedSessionsClosed: sockets.length, retryInMs: this.scheduleRetry() });
  }

  private send(message: UmsToIcgMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(message));
    return true;
  }

  private parse(ws: WebSocket, data: RawData, isBinary: boolean): IcgToUmsMessage | undefined {
    if (isBinary) return void this.refuseFrame(ws, CLOSE.unsupportedData, "binary tunnel frames are not accepted; send one JSON object per text frame");
    try {
      return parseIcgToUms(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    } catch (e) {
      if (!(e instanceof MessageError)) throw e;
      return void this.refuseFrame(ws, e.closeCode, e.message);
    }
  }

  private refuseFrame(ws: WebSocket, code: number, reason: string): void {
    this.deps.log.warn("icg-tunnel-message-refused", { url: this.options.url, closeCode: code, reason });
    if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason(reason));
  }

  private onMessage(message: IcgToUmsMessage): void {
    switch (message.type) {
      case "registered":
        return this.refuseFrame(this.ws!, CLOSE.badMessage, "a second 'registered' on one tunnel");
      case "http-request":
        return void this.onHttpRequest(message);
      case "session-open":
        return void this.onSessionOpen(message).catch((e: Error) => this.deps.log.error("internal-error", { sid: message.sid, error: e.message, via: "icg" }));
      case "session-frame":
        // A frame for a session that has just closed: the race is normal, the frame has no one to go to.
        return this.relayed.get(message.sid)?.receive(message);
      case "session-close": {
        const socket = this.relayed.get(message.sid);
        this.relayed.delete(message.sid);
        return socket?.remoteClosed(message.code, message.reason);
      }
    }
  }

  private async onHttpRequest(m: HttpRequestMessage): Promise<void> {
    const answer = (status: number, headers: Record<string, string>, body: Buffer) =>
      this.send({ type: "http-response", id: m.id, status, headers, body: body.toString("base64") });
    if (!RELAYED_HTTP.has(`${m.method} ${m.path.split("?")[0]}`)) {
      const spec = { status: 404, error: "not-relayed", reason: `the UMS serves device onboarding (POST ${ROUTES.onboard}) through the ICG tunnel, not ${m.method} ${m.path.slice(0, 120)}` };
      this.deps.log.warn("refused", { ...spec, method: m.method, path: m.path.slice(0, 120), remote: m.remote, via: "icg" });
      return void answer(404, { "content-type": "application/json" }, Buffer.from(JSON.stringify(refusalBody(spec))));
    }
    try {
      const res = await this.http.request(
        { method: m.method, path: m.path, headers: m.headers, body: Buffer.from(m.body, "base64"), peer: this.peer },
        this.options.connectTimeoutMs ?? 10_000,
      );
      answer(res.status, res.headers, res.body);
    } catch (e) {
      this.deps.log.error("internal-error", { path: m.path, error: (e as Error).message, via: "icg" });
      const spec = { status: 500, error: "internal-error", reason: `the mock UMS failed: ${(e as Error).message}` };
      answer(500, { "content-type": "application/json" }, Buffer.from(JSON.stringify(refusalBody(spec))));
    }
  }

  private async onSessionOpen(m: SessionOpenMessage): Promise<void> {
    const refuse = (status: number, error: string, reason: string) => {
      this.deps.log.warn("refused", { status, error, reason, path: ROUTES.deviceSocket, remote: m.remote, unitId: m.unitId, via: "icg" });
      this.send({ type: "session-refused", sid: m.sid, status, error, reason });
    };
    let chain;
    try {
      chain = certificatesFromPem(m.chain);
    } catch (e) {
      return refuse(400, "certificate-malformed", `the chain the ICG passed on does not parse: ${(e as Error).message}`);
    }
    // Belt and braces: the ICG checked this chain, and the UMS checks it again against its own CA and CRL.
    const identity = await this.deps.identity.verify(chain, m.source, "certificate relayed by the ICG");
    if (!identity.ok) return refuse(identity.status, identity.error, identity.reason);
    if (identity.unitId !== m.unitId) return refuse(401, "unit-id-mismatch", `the ICG named unit '${m.unitId}' but the certificate is for '${identity.unitId}'`);
    const socket = new RelayedSocket(m.sid, (frame) => this.send(frame));
    this.relayed.set(m.sid, socket);
    socket.once("close", () => this.relayed.delete(m.sid));
    this.deps.sessions.attach(socket, identity.unitId, `${m.remote} via ICG`, identity.leaf.serialNumber);
    this.send({ type: "session-accepted", sid: m.sid });
  }
}
