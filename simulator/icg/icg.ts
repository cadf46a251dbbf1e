import * as fs from "node:fs";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ChainVerifier, LabPki, TrustStoreError, commonName, loadLabPki } from "../pki";
import { ROUTES } from "../protocol/routes";
import { UPDATE_PROXY_UNAVAILABLE } from "../protocol/app-proxy";
import { DEFAULT_APP_CONFIG, ICG_READER, describeForwarding, loadAppConfig, AppConfig, ClientCertForwarding } from "../../core/ums-app-config";
import { ICG_STATUS_REASON_HEADER, IcgStatus, IcgStatusBody } from "../protocol/icg-tunnel";
import { StructuredLogger, LogEntry } from "../common/structured-log";
import { UserError } from "../../core/errors";
import { createHttpsListener, HttpsListener } from "../common/https-listener";
import { UmsTunnelHub } from "./ums-tunnel";
import { DeviceRelay } from "./device-relay";
import { onboardingRelay } from "./onboarding-relay";
import { refuse, refuseUpgrade } from "./refusals";
import { sendJson } from "../common/http-io";

/**
 * The IGEL Cloud Gateway, as the connection-options document describes it: devices and the UMS
 * both connect to the ICG (the UMS connects out; nothing connects in to the UMS), with mutual
 * authentication both ways, and everything relayed over the UMS's one WebSocket. The UMS update
 * proxy is not available through it (devices use the App Portal). Shaped like a testcontainers
 * module: `new Icg(options).start()` → `StartedIcg`.
 */

export const MOCK_ICG_VERSION = "12.01.100-mock";

export interface IcgOptions {
  /** The lab PKI (directory as `ums-edge pki init` wrote it, or loaded): the ICG certificate and the UMS web root CA. */
  readonly pki: string | LabPki;
  /** Address to listen on. @default "127.0.0.1" */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 8443 */
  readonly port?: number;
  /** The certificate the ICG presents (PEM chain, leaf first, and its key). @default the lab's ICG certificate (`pki.icg`) */
  readonly certificate?: { readonly chainFile: string; readonly keyFile: string };
  /** PEM file of the CA(s) a UMS's client certificate must chain to. @default the lab gateway CA (`pki.gatewayCa`) */
  readonly umsTrustedCaFile?: string;
  /** An application.yml whose `igel.client-cert-forwarding` block says where device certificates come from (behind an ALB). @default none: forwarding off */
  readonly appConfigFile?: string;
  /** An already-parsed application.yml (tests); ignored when `appConfigFile` is set. @default forwarding off */
  readonly appConfig?: AppConfig;
  /** How long a relayed onboarding request, a session open, or the UMS's registration may take, ms. @default 15000 */
  readonly relayTimeoutMs?: number;
  /** Ping interval on the UMS tunnel, ms; a tunnel silent for 3 intervals is dropped. @default 10000 */
  readonly tunnelPingMs?: number;
  /** Largest request head accepted (a forwarded chain must fit), bytes. @default 65536 */
  readonly maxHeaderBytes?: number;
  /** Receives every log line as JSON text. @default none: kept in memory only */
  readonly logSink?: (line: string) => void;
  /** Log entries kept in memory. @default 10000 */
  readonly logBufferSize?: number;
}

/** Checks options before anything starts; messages name the option and the fix. */
export function validateIcgOptions(o: IcgOptions): void {
  const problems: string[] = [];
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) problems.push(`'port' must be an integer from 0 to 65535 (got ${o.port})`);
  if (o.relayTimeoutMs !== undefined && !(o.relayTimeoutMs >= 10)) problems.push(`'relayTimeoutMs' must be at least 10 (got ${o.relayTimeoutMs})`);
  if (o.tunnelPingMs !== undefined && !(o.tunnelPingMs >= 10)) problems.push(`'tunnelPingMs' must be at least 10 (got ${o.tunnelPingMs})`);
  if (o.maxHeaderBytes !== undefined && !(o.maxHeaderBytes >= 16 * 1024)) problems.push(`'maxHeaderBytes' must be at least 16384 so that a forwarded certificate fits (got ${o.maxHeaderBytes})`);
  if (o.certificate && (!o.certificate.chainFile || !o.certificate.keyFile)) problems.push("'certificate' needs both 'chainFile' and 'keyFile'");
  if (problems.length > 0) throw new UserError(`ICG options: ${problems.join("; ")}`);
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`ICG: cannot read ${what} '${file}' (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** The ICG certificate and key, checked to belong together before any listener opens. */
function loadCertificate(chainFile: string, keyFile: string): { chainPem: string; keyPem: string; serverName: string } {
  const chainPem = readFile(chainFile, "the certificate chain");
  const keyPem = readFile(keyFile, "the private key");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chainPem);
  } catch (e) {
    throw new UserError(`ICG: '${chainFile}' holds no certificate that parses (${(e as Error).message})`);
  }
  let publicOfKey: Buffer;
  try {
    publicOfKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  } catch {
    throw new UserError(`ICG: '${keyFile}' holds no private key that parses`);
  }
  if (!leaf.publicKey.export({ type: "spki", format: "der" }).equals(publicOfKey)) {
    throw new UserError(`ICG: the private key '${keyFile}' does not belong to the certificate '${chainFile}'`);
  }
  return { chainPem, keyPem, serverName: commonName(leaf) ?? leaf.subject.replace(/\n/g, ",") };
}

/** Everything a caller needs to reach a started ICG; also the process entry's ready line. */
export interface IcgEndpoints {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The name in the ICG certificate (what the UMS checks). */
  readonly serverName: string;
  readonly statusUrl: string;
  readonly tunnelUrl: string;
  readonly onboardUrl: string;
  readonly wsUrl: string;
  readonly forwarding: ClientCertForwarding;
}

export class Icg {
  constructor(private readonly options: IcgOptions) {
    validateIcgOptions(options);
  }

  async start(): Promise<StartedIcg> {
    const o = this.options;
    let pki: LabPki;
    try {
      pki = typeof o.pki === "string" ? loadLabPki(o.pki) : o.pki;
    } catch (e) {
      throw new UserError(`--pki ${o.pki}: ${(e as Error).message}`);
    }
    const appConfig = o.appConfigFile ? loadAppConfig(o.appConfigFile, ICG_READER) : (o.appConfig ?? DEFAULT_APP_CONFIG);
    const cert = loadCertificate(o.certificate?.chainFile ?? pki.icg.chain, o.certificate?.keyFile ?? pki.icg.key);
    const umsCaFile = o.umsTrustedCaFile ?? pki.gatewayCa;
    const umsCaPem = readFile(umsCaFile, "the CA file for the UMS's certificate");
    let umsTrust: ChainVerifier;
    try {
      umsTrust = new ChainVerifier(umsCaPem);
    } catch (e) {
      if (!(e instanceof TrustStoreError)) throw e;
      throw new UserError(`ICG: '${umsCaFile}' is not usable as the CA for the UMS's certificate: ${e.message}`);
    }
    const umsTrustName = umsTrust.certificates.map((c) => `'${commonName(c) ?? c.subject}'`).join(" or ");

    const log = new StructuredLogger({ component: "icg", sink: o.logSink, bufferSize: o.logBufferSize });
    const hub = new UmsTunnelHub({
      log,
      umsTrust,
      umsTrustName,
      pingMs: o.tunnelPingMs ?? 10_000,
      relayTimeoutMs: o.relayTimeoutMs ?? 15_000,
      icgVersion: MOCK_ICG_VERSION,
      serverName: cert.serverName,
    });
    const relay = new DeviceRelay({ log, hub, forwarding: appConfig.forwarding });
    const onboard = onboardingRelay({ log, hub });
    let stopping = false;

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      let path: string;
      try {
        path = new URL(req.url ?? "/", "https://icg.invalid").pathname;
      } catch {
        return refuse(log, req, res, { status: 400, error: "malformed-request", reason: "the request target is not a valid path" });
      }
      const method = req.method ?? "GET";
      const only = (allowed: string) =>
        refuse(log, req, res, { status: 405, error: "method-not-allowed", reason: `${path} accepts ${allowed}, not ${method}`, headers: { allow: allowed } });
      if (path === ROUTES.icgStatus) {
        if (method !== "GET" && method !== "HEAD") return only("GET");
        const { status, reason } = stopping ? { status: "err" as IcgStatus, reason: "the ICG is stopping" } : hub.status;
        const body: IcgStatusBody = { status };
        return sendJson(res, status === "err" ? 503 : 200, body, { [ICG_STATUS_REASON_HEADER]: reason });
      }
      if (path === ROUTES.onboard) {
        if (method !== "POST") return only("POST");
        return void onboard(req, res, path).catch((e: Error) => {
          log.error("internal-error", { path, error: e.message });
          refuse(log, req, res, { status: 500, error: "internal-error", reason: `the ICG failed: ${e.message}` });
        });
      }
      if (path === ROUTES.deviceSocket || path === ROUTES.icgTunnel) {
        return refuse(log, req, res, { status: 426, error: "upgrade-required", reason: `${path} is a WebSocket: send 'Upgrade: websocket'`, headers: { upgrade: "websocket" } });
      }
      if (path === "/ums-appproxy" || path.startsWith("/ums-appproxy/")) {
        return refuse(log, req, res, {
          status: 501,
          error: UPDATE_PROXY_UNAVAILABLE,
          reason: "the UMS update proxy is not available through an ICG: devices download apps from the IGEL App Portal instead",
        });
      }
      refuse(log, req, res, {
        status: 404,
        error: "no-route",
        reason: `the ICG relays device onboarding (${ROUTES.onboard}) and the device WebSocket (${ROUTES.deviceSocket}) only; ${path.slice(0, 120)} is not reachable through it`,
      });
    };

    const caPem = (deviceCaPem = "") => umsCaPem + deviceCaPem;
    let tls: HttpsListener;
    try {
      // CA names start as the UMS web root and gain the device CA once a UMS has registered (trust()).
      tls = createHttpsListener({ privateKeyPem: cert.keyPem, certificateChainPem: cert.chainPem, caPem: caPem(), maxHeaderBytes: o.maxHeaderBytes ?? 64 * 1024, log, by: "icg", onRequest });
    } catch (e) {
      throw new UserError(`ICG: the certificate or key cannot be used for TLS: ${(e as Error).message}`);
    }
    // Once a UMS has said which device CA it uses, the certificate request names it too.
    hub.on("registered", (m: { deviceCaChain: string }) => tls.trust(caPem(m.deviceCaChain)));
    tls.server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const path = (req.url ?? "").split("?")[0];
      if (path === ROUTES.icgTunnel) return hub.handleUpgrade(req, socket, head);
      if (path === ROUTES.deviceSocket) {
        return void relay.handleUpgrade(req, socket, head).catch((e: Error) => {
          log.error("internal-error", { path, error: e.message });
          socket.destroy();
        });
      }
      refuseUpgrade(log, req, socket, { status: 404, error: "no-route", reason: `no WebSocket at ${path.slice(0, 120)}; devices connect to ${ROUTES.deviceSocket}` });
    });

    const host = o.host ?? "127.0.0.1";
    const wanted = o.port ?? 8443;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL" ? new UserError(`ICG: cannot listen on ${host}:${wanted} (${e.code}); choose another --host/--port`) : e);
      tls.server.once("error", onError);
      tls.server.listen(wanted, host, () => {
        tls.server.off("error", onError);
        resolve();
      });
    });
    const port = (tls.server.address() as AddressInfo).port;
    for (const w of appConfig.warnings) log.warn("config-warning", { warning: w });
    log.info("started", { host, port, serverName: cert.serverName, forwarding: describeForwarding(appConfig.forwarding), appConfig: appConfig.file, umsTrust: umsTrustName });
    return new StartedIcg({ host, port, serverName: cert.serverName, forwarding: appConfig.forwarding, log, hub, relay, tls, markStopping: () => (stopping = true) });
  }
}

interface StartedParts {
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly forwarding: ClientCertForwarding;
  readonly log: StructuredLogger;
  readonly hub: UmsTunnelHub;
  readonly relay: DeviceRelay;
  readonly tls: HttpsListener;
  readonly markStopping: () => void;
}

export class StartedIcg {
  private stopping?: Promise<void>;

  constructor(private readonly parts: StartedParts) {}

  get host(): string {
    return this.parts.host;
  }
  get port(): number {
    return this.parts.port;
  }
  /** `https://host:port`: the address devices use as cluster and enrollment address, and the UMS connects out to. */
  get url(): string {
    const h = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `https://${h}:${this.port}`;
  }
  /** The name in the ICG certificate (SNI and the UMS's check). */
  get serverName(): string {
    return this.parts.serverName;
  }
  /** `GET /usg/check-status`: the target group health check behind an ALB. */
  get statusUrl(): string {
    return this.url + ROUTES.icgStatus;
  }
  /** Where the UMS connects out to. */
  get tunnelUrl(): string {
    return this.url.replace(/^https:/, "wss:") + ROUTES.icgTunnel;
  }
  get onboardUrl(): string {
    return this.url + ROUTES.onboard;
  }
  get wsUrl(): string {
    return this.url.replace(/^https:/, "wss:") + ROUTES.deviceSocket;
  }
  get forwarding(): ClientCertForwarding {
    return this.parts.forwarding;
  }
  /** What `/usg/check-status` answers now. */
  get status(): IcgStatus {
    return this.parts.hub.status.status;
  }
  /** A registered UMS is connected. */
  get umsConnected(): boolean {
    return this.parts.hub.ready;
  }
  /** Device sockets relayed right now. */
  get relayedSessions(): number {
    return this.parts.relay.openSockets;
  }
  get endpoints(): IcgEndpoints {
    return {
      url: this.url,
      host: this.host,
      port: this.port,
      serverName: this.serverName,
      statusUrl: this.statusUrl,
      tunnelUrl: this.tunnelUrl,
      onboardUrl: this.onboardUrl,
      wsUrl: this.wsUrl,
      forwarding: this.forwarding,
    };
  }

  /** The log so far (bounded buffer), oldest first. */
  get logs(): readonly LogEntry[] {
    return this.parts.log.lines;
  }
  waitForLog(match: (e: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry> {
    return this.parts.log.waitFor(match, timeoutMs);
  }

  /** Closes device sockets and the UMS tunnel (1001), stops listening, ends every connection. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { tls, hub, relay, log } = this.parts;
      this.parts.markStopping();
      const closed = new Promise<void>((resolve) => tls.server.close(() => resolve()));
      await Promise.all([relay.stop("the ICG is stopping"), hub.stop()]);
      tls.server.closeAllConnections();
      for (const s of tls.sockets) s.destroy();
      await closed;
      log.info("stopped");
    })();
    return this.stopping;
  }
}
