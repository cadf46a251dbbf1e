import * as fs from "node:fs";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ChainVerifier, LabPki, loadLabPki } from "../pki";
import { ROUTES } from "../protocol/routes";
import type { ImiCommandExec, ImiServerStatus, ImiThinClient } from "../protocol/imi";
import { UserError } from "../../core/errors";
import { DEFAULT_APP_CONFIG, describeForwarding, loadAppConfig, ClientCertForwarding, AppConfig as UmsAppConfig } from "../../core/ums-app-config";
import { StructuredLogger, LogEntry } from "../common/structured-log";
import { toImiThinClient } from "./device-registry";
import { toImiCommandExec } from "./command-queue";
import { IdentityResolver } from "./identity";
import { DeviceTrustWatch } from "./device-trust-watch";
import { openUmsStore, SqlUmsStore } from "./store/open-store";
import { DeviceSessions } from "./device-sessions";
import { AdminAuth, AdminCredentials, LockoutPolicy } from "./admin-auth";
import { Router } from "./router";
import { onboardingHandler } from "./onboarding";
import { registerImiRoutes } from "./imi-api";
import { registerAppProxy } from "./app-proxy";
import { registerWebApp } from "./web-app";
import { refuse, refuseUpgrade } from "./refusals";
import { ClientAbortedError, remoteOf, sendJson } from "../common/http-io";
import { servletPath } from "../common/servlet-path";
import { createHttpsListener, HttpsListener } from "../common/https-listener";
import { IcgConnector, IcgLinkOptions } from "./icg-connector";

/**
 * The mock UMS 12: HTTPS with the web certificate, device onboarding, the management WebSocket,
 * the IMI-shaped admin API, the update proxy and the web app (design section 6). Shaped like a
 * testcontainers module: `new MockUms(options).start()` → `StartedMockUms`.
 */

export const MOCK_UMS_VERSION = "12.07.100-mock";

export interface MockUmsOptions {
  /** The lab PKI: its directory (as `ums-edge pki init` wrote it) or the loaded LabPki. */
  readonly pki: string | LabPki;
  /** Address to listen on. @default "127.0.0.1" */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 8443 */
  readonly port?: number;
  /** The UMS `application.yml` to read `igel.client-cert-forwarding` from. @default none: forwarding off */
  readonly appConfigFile?: string;
  /** An already-parsed application.yml (tests); ignored when `appConfigFile` is set. @default forwarding off */
  readonly appConfig?: UmsAppConfig;
  /**
   * Where devices, enrollment keys and commands are kept: a SQLite file (one UMS; a restart loses
   * nothing), a `postgresql://` URL (the servers of a cluster share it), or ":memory:".
   * @default ":memory:" (the lab gives a file in its directory)
   */
  readonly db?: string;
  /** One-time enrollment keys valid from the start (more can be minted through the IMI API). @default none */
  readonly enrollmentKeys?: readonly string[];
  /**
   * IMI credentials. @default DEFAULT_ADMIN, for in-process tests only: the process entry
   * (`ums-edge ums`) and the lab always give one (generated when none is given).
   */
  readonly admin?: AdminCredentials;
  /** When repeated wrong passwords lock the IMI account. @default DEFAULT_LOCKOUT (5 failures, 30 s doubling to 15 min) */
  readonly adminLockout?: LockoutPolicy;
  /** Heartbeat interval devices are told to use, ms. @default 30000 */
  readonly heartbeatMs?: number;
  /** How long a new device socket may take to say hello, ms. @default 10000 */
  readonly helloTimeoutMs?: number;
  /** Cluster address returned at onboarding. @default `https://<pki fqdn>:<port>` */
  readonly clusterAddress?: string;
  /** Size of each app the update proxy serves, bytes. @default 262144 */
  readonly appSizeBytes?: number;
  /** Lifetime of device certificates issued at onboarding, days. @default 365 */
  readonly certificateValidityDays?: number;
  /** Check device certificates against the lab CRL. @default true */
  readonly checkRevocation?: boolean;
  /**
   * How often the device CA chain and CRL files are checked for a change, ms (a device revoked, a
   * CA rotated: applied without a restart, and handed on to the ICG). 0: never. @default 250
   */
  readonly trustPollMs?: number;
  /** Largest request head accepted (a forwarded chain must fit), bytes. @default 65536 */
  readonly maxHeaderBytes?: number;
  /** Receives every log line as JSON text. @default none: kept in memory only */
  readonly logSink?: (line: string) => void;
  /** Log entries kept in memory. @default 10000 */
  readonly logBufferSize?: number;
  /**
   * The `icg` topology: connect out to this ICG and serve the devices it relays (icg-connector.ts).
   * The cluster address then defaults to the ICG's. @default none: devices connect to the UMS itself
   */
  readonly icg?: IcgLinkOptions;
}

/** The in-process default (tests). Never used by the process entry or the lab, which generate a password. */
export const DEFAULT_ADMIN: AdminCredentials = { username: "admin", password: "ums-edge-lab" };

/** Checks options before anything starts; messages name the option and the fix. */
function validateOptions(o: MockUmsOptions): void {
  const problems: string[] = [];
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) problems.push(`'port' must be an integer from 0 to 65535 (got ${o.port})`);
  if (o.heartbeatMs !== undefined && !(o.heartbeatMs >= 10)) problems.push(`'heartbeatMs' must be at least 10 (got ${o.heartbeatMs})`);
  if (o.helloTimeoutMs !== undefined && !(o.helloTimeoutMs >= 10)) problems.push(`'helloTimeoutMs' must be at least 10 (got ${o.helloTimeoutMs})`);
  if (o.appSizeBytes !== undefined && !(Number.isInteger(o.appSizeBytes) && o.appSizeBytes >= 1 && o.appSizeBytes <= 512 * 1024 * 1024)) {
    problems.push(`'appSizeBytes' must be an integer from 1 to 536870912 (got ${o.appSizeBytes})`);
  }
  if (o.maxHeaderBytes !== undefined && !(o.maxHeaderBytes >= 16 * 1024)) problems.push(`'maxHeaderBytes' must be at least 16384 so that a forwarded certificate fits (got ${o.maxHeaderBytes})`);
  if (o.admin && (!o.admin.username || !o.admin.password)) problems.push("'admin' needs a non-empty username and password");
  if (problems.length > 0) throw new UserError(`mock UMS options: ${problems.join("; ")}`);
}

function loadPki(pki: string | LabPki): LabPki {
  if (typeof pki !== "string") return pki;
  try {
    return loadLabPki(pki);
  } catch (e) {
    throw new UserError(`--pki ${pki}: ${(e as Error).message}`);
  }
}

/** Everything a caller needs to reach a started UMS; also the process entry's ready line. */
export interface UmsEndpoints {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly fqdn: string;
  readonly infoUrl: string;
  readonly onboardUrl: string;
  readonly wsUrl: string;
  readonly adminUrl: string;
  readonly appProxyUrl: string;
  readonly webAppUrl: string;
  readonly deviceCaChainPath: string;
  readonly deviceCaCertPath: string;
  readonly webRootCertPath: string;
  readonly crlPath: string;
  readonly forwarding: ClientCertForwarding;
  /** The ICG the UMS connects out to (icg topology). */
  readonly icgUrl?: string;
  /** Where its state is kept (a file, a database URL without password, or memory). */
  readonly db: string;
}

export class MockUms {
  constructor(private readonly options: MockUmsOptions) {
    validateOptions(options);
  }

  async start(): Promise<StartedMockUms> {
    const o = this.options;
    const pki = loadPki(o.pki);
    const appConfig = o.appConfigFile ? loadAppConfig(o.appConfigFile) : (o.appConfig ?? DEFAULT_APP_CONFIG);
    const log = new StructuredLogger({ component: "ums", sink: o.logSink, bufferSize: o.logBufferSize });
    const read = (file: string) => fs.readFileSync(file, "utf8");
    const clientCaChainPem = read(pki.clientCaChain);
    const verifier = new ChainVerifier(clientCaChainPem, o.checkRevocation === false ? undefined : read(pki.crl));
    const store = await openUmsStore(o.db ?? ":memory:", (e) => log.error("store-lost", { db: o.db, error: e.message }));
    const { revoked, keys, devices: registry, commands } = store;
    await keys.add(o.enrollmentKeys ?? []);
    const identity = new IdentityResolver(appConfig.forwarding, verifier, revoked);
    const heartbeatMs = o.heartbeatMs ?? 30_000;
    let endpoint = { host: o.host ?? "127.0.0.1", port: o.port ?? 8443 };
    // This server's name in a shared store: its listening address.
    const server = () => `${endpoint.host}:${endpoint.port}`;
    const sessions = new DeviceSessions({ log, registry, commands, identity, heartbeatMs, helloTimeoutMs: o.helloTimeoutMs ?? 10_000, server });
    // Commands queued here or on another server of the cluster: delivered by whichever holds the device's session.
    store.db.onCommandsQueued((deviceId) => sessions.deliver(deviceId));
    const serverUUID = randomUUID();
    const deviceCaCertPem = read(pki.deviceCa.cert);

    const router = new Router();
    router.add("GET", ROUTES.info, ({ res }) =>
      sendJson(res, 200, { status: "ok", service: "mock-ums", version: MOCK_UMS_VERSION, fqdn: pki.fqdn, devicesOnline: sessions.onlineCount }),
    );
    const clusterAddress = () => o.clusterAddress ?? (o.icg ? o.icg.url.replace(/^wss:/, "https:") : `https://${pki.fqdn}:${endpoint.port}`);
    router.add(
      "POST",
      ROUTES.onboard,
      onboardingHandler({
        keys,
        registry,
        log,
        issuer: { certificatePem: deviceCaCertPem, privateKeyPem: read(pki.deviceCa.key), chainPem: read(pki.deviceCa.chain) },
        clusterAddress,
        certificateValidityDays: o.certificateValidityDays ?? 365,
        revoked,
        disconnect: (deviceId, reason) => sessions.disconnect(deviceId, reason),
      }),
    );
    router.add("GET", ROUTES.deviceSocket, (ctx) =>
      refuse(log, ctx.req, ctx.res, { status: 426, error: "upgrade-required", reason: `${ROUTES.deviceSocket} is the device WebSocket: send 'Upgrade: websocket'`, headers: { upgrade: "websocket" } }),
    );
    const serverStatus = (): ImiServerStatus => ({ rmGuiServerVersion: MOCK_UMS_VERSION, buildNumber: 1, serverUUID, server: `${pki.fqdn}:${endpoint.port}`, status: "ok" });
    registerImiRoutes(router, { log, registry, commands, keys, auth: new AdminAuth(o.admin ?? DEFAULT_ADMIN, undefined, o.adminLockout), serverStatus });
    registerAppProxy(router, { log, identity, appSizeBytes: o.appSizeBytes ?? 256 * 1024 });
    registerWebApp(router, pki.fqdn);

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      // Routed on the path a servlet container would serve (dot segments, ';' parameters, escapes resolved).
      const routed = servletPath(req.url ?? "/");
      let url: URL;
      try {
        url = new URL(req.url ?? "/", "https://ums.invalid");
      } catch {
        url = new URL("https://ums.invalid/");
      }
      if (!routed.ok) return refuse(log, req, res, { status: 400, error: "malformed-request", reason: `the request target is not a valid path: ${routed.reason}` });
      const path = routed.path;
      const match = router.match(req.method ?? "GET", path);
      if (match.kind === "not-found") {
        return refuse(log, req, res, { status: 404, error: "no-route", reason: `the mock UMS has no route for ${req.method} ${path.slice(0, 120)}` });
      }
      if (match.kind === "wrong-method") {
        return refuse(log, req, res, {
          status: 405,
          error: "method-not-allowed",
          reason: `${path.slice(0, 120)} accepts ${match.allowed.join(", ")}, not ${req.method}`,
          headers: { allow: match.allowed.join(", ") },
        });
      }
      Promise.resolve(match.handler({ req, res, url, rest: match.rest })).catch((e: Error) => {
        // A client that went away mid-body is not a failure of the UMS: nothing to answer, nothing to report as an error.
        if (e instanceof ClientAbortedError) return void log.info("client-aborted", { path, ...remoteOf(req), detail: e.message });
        log.error("internal-error", { path, error: e.message });
        refuse(log, req, res, { status: 500, error: "internal-error", reason: `the mock UMS failed: ${e.message}` });
      });
    };

    // The web certificate as the IGEL guide exports it; the device CA chain named in the certificate request.
    const material = { privateKeyPem: read(pki.web.privateKey), certificateChainPem: read(pki.web.entireChain), caPem: clientCaChainPem };
    // --- icg topology: the tunnel comes up (or a wrong ICG setting fails the start) before any listener opens.
    const icg = o.icg
      ? new IcgConnector(o.icg, {
          pki,
          log,
          sessions,
          identity,
          handler: onRequest,
          register: { umsVersion: MOCK_UMS_VERSION, fqdn: pki.fqdn, deviceCaChain: clientCaChainPem, crl: o.checkRevocation === false ? undefined : read(pki.crl) },
        })
      : undefined;
    await icg?.start();
    // --- end icg
    const trustWatch = new DeviceTrustWatch({
      chainFile: pki.clientCaChain,
      crlFile: o.checkRevocation === false ? undefined : pki.crl,
      pollMs: o.trustPollMs ?? 250,
      onUpdate: (next, chainPem, crlPem) => {
        identity.useVerifier(next);
        icg?.updateTrust(chainPem, crlPem);
        log.info("device-trust-reloaded", { chain: pki.clientCaChain, crl: crlPem === undefined ? null : pki.crl, toIcg: icg?.connected ?? false });
      },
      onError: (reason) => log.error("device-trust-reload-refused", { reason }),
    });
    const tls = createHttpsListener({ ...material, maxHeaderBytes: o.maxHeaderBytes ?? 64 * 1024, log, by: "ums", onRequest });
    tls.server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const routed = servletPath(req.url ?? "/");
      const path = routed.ok ? routed.path : (req.url ?? "");
      if (path !== ROUTES.deviceSocket) {
        return refuseUpgrade(log, req, socket, { status: 404, error: "no-route", reason: `no WebSocket at ${path.slice(0, 120)}; devices connect to ${ROUTES.deviceSocket}` });
      }
      void sessions.handleUpgrade(req, socket, head).catch((e: Error) => {
        log.error("internal-error", { path, error: e.message });
        refuseUpgrade(log, req, socket, { status: 500, error: "internal-error", reason: `the mock UMS failed: ${e.message}` });
      });
    });

    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(
          e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL"
            ? new UserError(`cannot listen on ${endpoint.host}:${endpoint.port} (${e.code}); choose another --host/--port`)
            : e,
        );
      tls.server.once("error", onError);
      tls.server.listen(endpoint.port, endpoint.host, () => {
        tls.server.off("error", onError);
        resolve();
      });
    }).catch(async (e) => {
      trustWatch.stop();
      await icg?.stop();
      await store.close();
      throw e;
    });
    endpoint = { host: endpoint.host, port: (tls.server.address() as AddressInfo).port };
    // Sessions this server held before a restart are gone (a SQLite file has no other server).
    await store.forgetSessionsOf(store.db.dialect === "sqlite" ? undefined : server());
    for (const w of appConfig.warnings) log.warn("config-warning", { warning: w });
    log.info("started", { host: endpoint.host, port: endpoint.port, forwarding: describeForwarding(appConfig.forwarding), appConfig: appConfig.file, db: store.location });
    return new StartedMockUms({ pki, endpoint, appConfig, log, store, sessions, tls, icg, trustWatch });
  }
}

interface StartedParts {
  readonly pki: LabPki;
  readonly endpoint: { host: string; port: number };
  readonly appConfig: UmsAppConfig;
  readonly log: StructuredLogger;
  readonly store: SqlUmsStore;
  readonly sessions: DeviceSessions;
  readonly tls: HttpsListener;
  readonly icg?: IcgConnector;
  readonly trustWatch: DeviceTrustWatch;
}

export class StartedMockUms {
  private stopping?: Promise<void>;

  constructor(private readonly parts: StartedParts) {}

  get host(): string {
    return this.parts.endpoint.host;
  }
  get port(): number {
    return this.parts.endpoint.port;
  }
  /** `https://host:port`, the address devices and the admin API use. */
  get url(): string {
    const h = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `https://${h}:${this.port}`;
  }
  /** The cluster FQDN in the web certificate (the SNI name clients should send). */
  get fqdn(): string {
    return this.parts.pki.fqdn;
  }
  get infoUrl(): string {
    return this.url + ROUTES.info;
  }
  get onboardUrl(): string {
    return this.url + ROUTES.onboard;
  }
  get wsUrl(): string {
    return this.url.replace(/^https:/, "wss:") + ROUTES.deviceSocket;
  }
  /** Base of the IMI-shaped API, `…/umsapi/v3`. */
  get adminUrl(): string {
    return `${this.url}/umsapi/v3`;
  }
  get appProxyUrl(): string {
    return this.url + ROUTES.appProxy;
  }
  get webAppUrl(): string {
    return this.url + ROUTES.webApp;
  }
  /** `client-ca-chain.pem`: the device CA chain (what an ALB trust store holds). */
  get deviceCaChainPath(): string {
    return this.parts.pki.clientCaChain;
  }
  get deviceCaCertPath(): string {
    return this.parts.pki.deviceCa.cert;
  }
  /** The root of the web certificate: what devices and browsers trust. */
  get webRootCertPath(): string {
    return this.parts.pki.web.rootCert;
  }
  get crlPath(): string {
    return this.parts.pki.crl;
  }
  get forwarding(): ClientCertForwarding {
    return this.parts.appConfig.forwarding;
  }
  get endpoints(): UmsEndpoints {
    return {
      url: this.url,
      host: this.host,
      port: this.port,
      fqdn: this.fqdn,
      infoUrl: this.infoUrl,
      onboardUrl: this.onboardUrl,
      wsUrl: this.wsUrl,
      adminUrl: this.adminUrl,
      appProxyUrl: this.appProxyUrl,
      webAppUrl: this.webAppUrl,
      deviceCaChainPath: this.deviceCaChainPath,
      deviceCaCertPath: this.deviceCaCertPath,
      webRootCertPath: this.webRootCertPath,
      crlPath: this.crlPath,
      forwarding: this.forwarding,
      icgUrl: this.parts.icg?.url,
      db: this.parts.store.location,
    };
  }

  /** icg topology: the tunnel to the ICG is up and registered. */
  get icgConnected(): boolean {
    return this.parts.icg?.connected ?? false;
  }

  /** The log so far (bounded buffer), oldest first. */
  get logs(): readonly LogEntry[] {
    return this.parts.log.lines;
  }
  waitForLog(match: (e: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry> {
    return this.parts.log.waitFor(match, timeoutMs);
  }

  /** Mints one-time enrollment keys in-process (the IMI route `POST /umsapi/v3/enrollmentkeys` does the same over HTTP). */
  mintEnrollmentKeys(count: number): Promise<string[]> {
    return this.parts.store.keys.mint(count);
  }
  /** The devices in its store (GET /umsapi/v3/thinclients without HTTP). */
  async listDevices(): Promise<ImiThinClient[]> {
    return (await this.parts.store.devices.list()).map(toImiThinClient);
  }
  /** Every command in its store (GET /umsapi/v3/commands without HTTP). */
  async listCommands(): Promise<ImiCommandExec[]> {
    return (await this.parts.store.commands.list()).map(toImiCommandExec);
  }
  get onlineCount(): number {
    return this.parts.sessions.onlineCount;
  }

  /** Closes device sockets (1001), stops listening, and ends every connection. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { tls, sessions, log, icg, store, trustWatch } = this.parts;
      trustWatch.stop();
      const closed = new Promise<void>((resolve) => tls.server.close(() => resolve()));
      await icg?.stop();
      await sessions.stop();
      tls.server.closeAllConnections();
      for (const s of tls.sockets) s.destroy();
      await closed;
      await store.close();
      log.info("stopped");
    })();
    return this.stopping;
  }
}
