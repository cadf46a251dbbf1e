import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket, RawData } from "ws";
import type { ClientCertForwarding } from "../../core/ums-app-config";
import { closeAndWait } from "../common/ws-close";
import { CLOSE, MAX_MESSAGE_BYTES } from "../protocol/messages";
import { closeReason } from "../protocol/icg-tunnel";
import type { StructuredLogger } from "../common/structured-log";
import { identifyDevice } from "./device-identity";
import { refuseUpgrade } from "./refusals";
import { remoteOf } from "../common/http-io";
import { NO_UMS, UmsTunnelHub } from "./ums-tunnel";

/**
 * A device's management WebSocket at the ICG: refused with a reason unless a UMS is connected and
 * the device certificate passes the ICG's own check; then the UMS is asked to open the session
 * (it verifies the chain again and may refuse, and its refusal reaches the device as an HTTP
 * answer); only then is the upgrade completed and frames relayed both ways, unread.
 */

export interface DeviceRelayOptions {
  readonly log: StructuredLogger;
  readonly hub: UmsTunnelHub;
  readonly forwarding: ClientCertForwarding;
}

/** Close codes a close frame may not carry (RFC 6455 7.4.1): the ICG passes them on as 1001. */
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);

export class DeviceRelay {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES * 4, perMessageDeflate: false });
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly opts: DeviceRelayOptions) {}

  get openSockets(): number {
    return this.sockets.size;
  }

  /** The https server's `upgrade` event for the device socket path. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { log, hub } = this.opts;
    const no = (spec: Parameters<typeof refuseUpgrade>[3]) => refuseUpgrade(log, req, socket, spec);
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return no({ status: 400, error: "not-websocket", reason: `upgrade to '${req.headers.upgrade}' is not supported here; use a WebSocket` });
    }
    const trust = hub.deviceTrust;
    if (!hub.ready || !trust) return no({ status: 503, error: "no-ums-connected", reason: NO_UMS, headers: { "retry-after": "5" } });
    const identity = identifyDevice(req, this.opts.forwarding, trust);
    if (!identity.ok) return no({ status: identity.status, error: identity.error, reason: identity.reason, unitId: identity.claimedUnitId });

    const { remote, forwardedFor } = remoteOf(req);
    // Frames the UMS sends before the upgrade completes wait here (none in practice: it waits for hello).
    let ws: WebSocket | undefined;
    let early: { code: number; reason: string } | undefined;
    const outcome = await hub.openSession(
      { unitId: identity.unitId, chain: identity.chain.map((c) => c.toString()).join(""), source: identity.source, remote: forwardedFor ? `${forwardedFor} (via ${remote})` : remote },
      {
        onFrame: (data, binary) => {
          if (ws?.readyState === WebSocket.OPEN) ws.send(data, { binary });
        },
        onClose: (code, reason) => {
          if (!ws) return void (early = { code, reason });
          closeDevice(ws, code, reason);
        },
      },
    );
    if (!outcome.ok) return no({ status: outcome.status, error: outcome.error, reason: outcome.reason, unitId: identity.unitId, by: outcome.by });
    const session = outcome.session;
    if (socket.destroyed || !socket.writable) return session.close(CLOSE.goingAway, "the device went away before its session opened");

    this.wss.handleUpgrade(req, socket, head, (upgraded) => {
      ws = upgraded;
      this.sockets.add(upgraded);
      log.info("device-relayed", { unitId: identity.unitId, sid: session.sid, remote, forwardedFor, source: identity.source });
      upgraded.on("message", (data: RawData, isBinary: boolean) => session.send(toBuffer(data), isBinary));
      upgraded.on("error", (err) => log.warn("device-socket-error", { unitId: identity.unitId, sid: session.sid, error: err.message }));
      upgraded.on("close", (code: number, reason: Buffer) => {
        this.sockets.delete(upgraded);
        const text = reason.toString();
        session.close(UNSENDABLE.has(code) ? CLOSE.goingAway : code, text || `the device connection ended (${code})`);
        log.info("device-session-closed", { unitId: identity.unitId, sid: session.sid, closeCode: code, reason: text || undefined });
      });
      if (early) closeDevice(upgraded, early.code, early.reason);
    });
  }

  /** Closes every device socket (going away) and waits briefly for the close handshakes. */
  async stop(reason: string): Promise<void> {
    await Promise.all([...this.sockets].map((ws) => closeAndWait(ws, () => closeDevice(ws, CLOSE.goingAway, reason))));
    this.wss.close();
  }
}

function closeDevice(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
  // 1006 from the UMS side means "dropped without a close frame": drop the device the same way.
  if (code === 1006) return ws.terminate();
  ws.close(UNSENDABLE.has(code) ? CLOSE.goingAway : code, closeReason(reason));
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}
