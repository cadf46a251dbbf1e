import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket, RawData } from "ws";
import { ChainVerifier, TrustStoreError, commonName } from "../pki";
import { certificatesFromPem } from "../../core/pem";
import { closeAndWait } from "../common/ws-close";
import { CLOSE, MessageError } from "../protocol/messages";
import {
  CLOSE_UMS_GONE,
  TUNNEL_MAX_BYTES,
  closeReason,
  parseUmsToIcg,
  HttpRequestMessage,
  HttpResponseMessage,
  IcgStatus,
  IcgToUmsMessage,
  RegisterMessage,
  TrustUpdateMessage,
  SessionOpenMessage,
  SessionRefusedMessage,
  UmsToIcgMessage,
} from "../protocol/icg-tunnel";
import type { StructuredLogger } from "../common/structured-log";
import { admitUms } from "./ums-admission";
import { refuseUpgrade } from "./refusals";
import { remoteOf } from "../common/http-io";

/**
 * The ICG's end of the UMS tunnel: admits one UMS (a newer one replaces the older), learns the
 * device CA chain and CRL from its `register`, and multiplexes relayed onboarding requests and
 * device sessions over the one WebSocket. A malformed tunnel frame closes the tunnel with a close
 * code and one log line — the ICG itself stays up, and the UMS reconnects.
 */

export interface UmsTunnelHubOptions {
  readonly log: StructuredLogger;
  /** The CA(s) a UMS's client certificate must chain to. */
  readonly umsTrust: ChainVerifier;
  /** How refusals name that CA, e.g. `'UMS Lab Web Root CA'`. */
  readonly umsTrustName: string;
  /** Ping interval on the tunnel; silent for 3 intervals → dropped. */
  readonly pingMs: number;
  /** How long a relayed request, a session open or the UMS's `register` may take. */
  readonly relayTimeoutMs: number;
  readonly icgVersion: string;
  /** The ICG's certificate name, told to the UMS in `registered`. */
  readonly serverName: string;
}

/** The device side of a relayed session: what the UMS sends it. */
export interface RelayPeer {
  onFrame(data: Buffer, binary: boolean): void;
  onClose(code: number, reason: string): void;
}

/** A device session the UMS accepted. */
export interface RelayedSession {
  readonly sid: string;
  send(data: Buffer, binary: boolean): void;
  /** The device side closed (or went away): tells the UMS. */
  close(code: number, reason: string): void;
}

export type OpenOutcome =
  | { readonly ok: true; readonly session: RelayedSession }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly reason: string; readonly by: "icg" | "ums" };

/** The tunnel was not there, or closed before the UMS answered. */
export class TunnelUnavailable extends Error {}
/** The UMS did not answer within `relayTimeoutMs`. */
export class TunnelTimeout extends Error {}

interface Pending {
  readonly resolve: (m: UmsToIcgMessage) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One UMS connection. */
class Tunnel {
  registered = false;
  fqdn?: string;
  lastHeard = Date.now();
  readonly pending = new Map<string, Pending>();
  readonly peers = new Map<string, RelayPeer>();
  readonly registerTimer: NodeJS.Timeout;
  readonly pingTimer: NodeJS.Timeout;

  constructor(
    readonly ws: WebSocket,
    readonly umsName: string,
    readonly remote: string,
    private readonly hub: UmsTunnelHub,
    private readonly opts: UmsTunnelHubOptions,
  ) {
    this.registerTimer = setTimeout(() => this.close(CLOSE.policy, `no 'register' within ${opts.relayTimeoutMs} ms`), opts.relayTimeoutMs);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > opts.pingMs * 3) {
        opts.log.warn("ums-tunnel-silent", { ums: umsName, silentMs: Date.now() - this.lastHeard });
        return ws.terminate();
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, opts.pingMs);
    ws.on("pong", () => (this.lastHeard = Date.now()));
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    ws.on("error", (err) => opts.log.warn("ums-tunnel-error", { ums: umsName, error: err.message }));
    ws.on("close", (code, reason) => this.onClose(code, reason.toString()));
  }

  send(message: IcgToUmsMessage): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  close(code: number, reason: string): void {
    if (code !== CLOSE.normal && code !== CLOSE.goingAway && code !== CLOSE.replaced) {
      this.opts.log.warn("tunnel-message-refused", { ums: this.umsName, remote: this.remote, closeCode: code, reason });
    }
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, closeReason(reason));
  }

  /** Sends a message that the UMS answers, keyed by `key`; rejects on timeout or a lost tunnel. */
  ask(key: string, message: IcgToUmsMessage): Promise<UmsToIcgMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new TunnelTimeout(`the UMS did not answer within ${this.opts.relayTimeoutMs} ms`));
      }, this.opts.relayTimeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      if (!this.send(message)) {
        clearTimeout(timer);
        this.pending.delete(key);
        reject(new TunnelUnavailable("the UMS tunnel closed"));
      }
    });
  }

  private answer(key: string, message: UmsToIcgMessage): void {
    const p = this.pending.get(key);
    // An answer after its timeout: the device was already told; nothing to do.
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(message);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.lastHeard = Date.now();
    // Closing (a refused frame, a replacement): what still arrives is not acted on.
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (isBinary) return this.close(CLOSE.unsupportedData, "binary tunnel frames are not accepted; send one JSON object per text frame");
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    let message: UmsToIcgMessage;
    try {
      message = parseUmsToIcg(raw);
    } catch (e) {
      if (e instanceof MessageError) return this.close(e.closeCode, e.message);
      throw e;
    }
    if (!this.registered && message.type !== "register") return this.close(CLOSE.badMessage, `expected 'register' first, got '${message.type}'`);
    switch (message.type) {
      case "register":
        return this.onRegister(message);
      case "trust-update":
        return this.onTrustUpdate(message);
      case "http-response":
        return this.answer(`req:${message.id}`, message);
      case "session-accepted":
      case "session-refused":
        return this.answer(`open:${message.sid}`, message);
      case "session-frame":
        // A frame for a session that has just closed: the race is normal, the frame has no one to go to.
        return this.peers.get(message.sid)?.onFrame(Buffer.from(message.data, "base64"), message.binary === true);
      case "session-close": {
        const peer = this.peers.get(message.sid);
        this.peers.delete(message.sid);
        return peer?.onClose(message.code, message.reason);
      }
    }
  }

  private onRegister(message: RegisterMessage): void {
    if (this.registered) return this.close(CLOSE.badMessage, "a second 'register' on one tunnel");
    clearTimeout(this.registerTimer);
    let trust: ChainVerifier;
    try {
      trust = new ChainVerifier(message.deviceCaChain, message.crl);
    } catch (e) {
      if (!(e instanceof TrustStoreError)) throw e;
      const reason = `the UMS's device CA chain or CRL is unusable: ${e.message}`;
      this.hub.registrationFailed(reason);
      return this.close(CLOSE.badMessage, reason);
    }
    this.registered = true;
    this.fqdn = message.fqdn;
    this.send({ type: "registered", icgVersion: this.opts.icgVersion, serverName: this.opts.serverName });
    this.hub.registered(this, trust, message);
  }

  /** New handshakes and sessions are judged by the new chain and CRL; an unusable one is logged and the old one kept. */
  private onTrustUpdate(message: TrustUpdateMessage): void {
    try {
      this.hub.trustUpdated(this, new ChainVerifier(message.deviceCaChain, message.crl), message);
    } catch (e) {
      if (!(e instanceof TrustStoreError)) throw e;
      this.opts.log.error("device-trust-update-refused", { ums: this.umsName, reason: `the UMS's new device CA chain or CRL is unusable: ${e.message}; the previous one stays` });
    }
  }

  private onClose(code: number, reason: string): void {
    clearTimeout(this.registerTimer);
    clearInterval(this.pingTimer);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new TunnelUnavailable(`the UMS tunnel closed (${code}${reason ? ` ${reason}` : ""}) before the UMS answered`));
    }
    this.pending.clear();
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const peer of peers) peer.onClose(CLOSE_UMS_GONE, "the UMS disconnected from the ICG; reconnect later");
    this.hub.closed(this, code, reason, peers.length);
  }
}

export class UmsTunnelHub extends EventEmitter {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: TUNNEL_MAX_BYTES, perMessageDeflate: false });
  private active?: Tunnel;
  private readonly all = new Set<Tunnel>();
  private deviceTrustValue?: ChainVerifier;
  private failure?: string;

  constructor(private readonly opts: UmsTunnelHubOptions) {
    super();
  }

  /** `ok` with a registered UMS, `init` while one is registering, `warn` without one, `err` when the last one's registration was unusable. */
  get status(): { readonly status: IcgStatus; readonly reason: string } {
    const t = this.active;
    if (t?.registered) return { status: "ok", reason: `UMS '${t.umsName}' (${t.fqdn}) connected` };
    if (t) return { status: "init", reason: `UMS '${t.umsName}' connected, waiting for its registration` };
    if (this.failure) return { status: "err", reason: this.failure };
    return { status: "warn", reason: "no UMS connected: devices cannot be relayed" };
  }

  /** A registered UMS is connected: devices can be relayed. */
  get ready(): boolean {
    return this.active?.registered === true && this.deviceTrustValue !== undefined;
  }

  /** The device CA chain and CRL the last registered UMS handed over. */
  get deviceTrust(): ChainVerifier | undefined {
    return this.deviceTrustValue;
  }

  get relayedSessions(): number {
    return this.active?.peers.size ?? 0;
  }

  /** The https server's `upgrade` event for the tunnel path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const log = this.opts.log;
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return refuseUpgrade(log, req, socket, { status: 400, error: "not-websocket", reason: `the UMS tunnel is a WebSocket; upgrade to '${req.headers.upgrade}' is not supported` });
    }
    const admission = admitUms(req, this.opts.umsTrust, this.opts.umsTrustName);
    if (!admission.ok) return refuseUpgrade(log, req, socket, { status: admission.status, error: admission.error, reason: admission.reason, unitId: admission.claimed });
    const { remote } = remoteOf(req);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const tunnel = new Tunnel(ws, admission.name, remote, this, this.opts);
      this.all.add(tunnel);
      const older = this.active;
      this.active = tunnel;
      log.info("ums-connected", { ums: admission.name, remote, replaces: older?.umsName });
      older?.close(CLOSE.replaced, "replaced by a newer connection of a UMS");
    });
  }

  /** Relays one HTTP request to the UMS and resolves with its answer. Rejects with TunnelUnavailable or TunnelTimeout. */
  async request(request: Omit<HttpRequestMessage, "type" | "id">): Promise<HttpResponseMessage> {
    const t = this.readyTunnel();
    const id = randomUUID();
    return (await t.ask(`req:${id}`, { type: "http-request", id, ...request })) as HttpResponseMessage;
  }

  /** Asks the UMS to open a session for a verified device; the peer receives what the UMS sends. */
  async openSession(open: Omit<SessionOpenMessage, "type" | "sid">, peer: RelayPeer): Promise<OpenOutcome> {
    let t: Tunnel;
    try {
      t = this.readyTunnel();
    } catch (e) {
      return { ok: false, status: 503, error: "no-ums-connected", reason: (e as Error).message, by: "icg" };
    }
    const sid = randomUUID();
    let answer: UmsToIcgMessage;
    try {
      answer = await t.ask(`open:${sid}`, { type: "session-open", sid, ...open });
    } catch (e) {
      const timeout = e instanceof TunnelTimeout;
      return { ok: false, status: timeout ? 504 : 503, error: timeout ? "ums-timeout" : "no-ums-connected", reason: (e as Error).message, by: "icg" };
    }
    if (answer.type === "session-refused") {
      const r = answer as SessionRefusedMessage;
      return { ok: false, status: r.status, error: r.error, reason: r.reason, by: "ums" };
    }
    if (t.ws.readyState !== WebSocket.OPEN) return { ok: false, status: 503, error: "no-ums-connected", reason: "the UMS tunnel closed while the session opened", by: "icg" };
    t.peers.set(sid, peer);
    return {
      ok: true,
      session: {
        sid,
        send: (data, binary) => void t.send({ type: "session-frame", sid, data: data.toString("base64"), ...(binary ? { binary } : {}) }),
        close: (code, reason) => {
          if (!t.peers.delete(sid)) return;
          t.send({ type: "session-close", sid, code, reason: closeReason(reason) });
        },
      },
    };
  }

  /** Closes the tunnel (going away) and waits briefly for the close handshake. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.all].map((t) => closeAndWait(t.ws, () => t.close(CLOSE.goingAway, "the ICG is stopping"))),
    );
    this.wss.close();
  }

  // ---- called by Tunnel ----

  registered(t: Tunnel, trust: ChainVerifier, message: RegisterMessage): void {
    if (this.active !== t) return;
    this.deviceTrustValue = trust;
    this.failure = undefined;
    const cas = certificatesFromPem(message.deviceCaChain).map((c) => commonName(c) ?? c.subject);
    this.opts.log.info("ums-registered", { ums: t.umsName, fqdn: message.fqdn, umsVersion: message.umsVersion, deviceCas: cas, crl: message.crl !== undefined });
    this.emit("registered", message);
  }

  trustUpdated(t: Tunnel, trust: ChainVerifier, message: TrustUpdateMessage): void {
    if (this.active !== t) return;
    this.deviceTrustValue = trust;
    const cas = certificatesFromPem(message.deviceCaChain).map((c) => commonName(c) ?? c.subject);
    this.opts.log.info("device-trust-updated", { ums: t.umsName, deviceCas: cas, crl: message.crl !== undefined });
  }

  registrationFailed(reason: string): void {
    this.failure = reason;
    this.opts.log.error("ums-registration-refused", { reason });
  }

  closed(t: Tunnel, code: number, reason: string, sessions: number): void {
    this.all.delete(t);
    const wasActive = this.active === t;
    if (wasActive) this.active = undefined;
    this.opts.log.info("ums-disconnected", { ums: t.umsName, closeCode: code, reason: reason || undefined, relayedSessionsClosed: sessions, wasActive });
  }

  private readyTunnel(): Tunnel {
    const t = this.active;
    if (!t?.registered || t.ws.readyState !== WebSocket.OPEN) throw new TunnelUnavailable(NO_UMS);
    return t;
  }
}

export const NO_UMS =
  "no UMS connected to this ICG: the ICG relays devices to a UMS that has connected out to it, and learns from that UMS which device certificates to accept";
