import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket, RawData } from "ws";
import { closeAndWait } from "../common/ws-close";
import { CLOSE, MAX_MESSAGE_BYTES, MessageError, parseDeviceMessage, DeviceMessage, ServerMessage, HelloMessage } from "../protocol/messages";
import type { StructuredLogger } from "../common/structured-log";
import type { DeviceRegistry, DeviceRecord } from "./device-registry";
import type { CommandQueue, CommandRecord } from "./command-queue";
import type { IdentityResolver } from "./identity";
import { refuseUpgrade } from "./refusals";
import { remoteOf } from "../common/http-io";

/**
 * The management WebSocket (`/device-connector/v1/ws`): identity is checked before the upgrade
 * (a refused device gets an HTTP status and a reason, as a browser-visible 401), then the device
 * says hello, gets a welcome, heartbeats, and receives its due commands. One live session per
 * device: a newer connection replaces the older (close code `replaced`).
 */

/**
 * What a session needs of its socket: a `ws` WebSocket, or a device relayed through an ICG tunnel
 * (icg-relayed-socket.ts), so relayed devices run through this same session code.
 */
export interface SessionSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: "message", listener: (data: RawData, isBinary: boolean) => void): this;
  on(event: "close", listener: (code: number, reason: Buffer) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  once(event: "close", listener: () => void): this;
}

export interface DeviceSessionsOptions {
  readonly log: StructuredLogger;
  readonly registry: DeviceRegistry;
  readonly commands: CommandQueue;
  readonly identity: IdentityResolver;
  /** Heartbeat interval told to devices in the welcome; a device silent for 3 intervals is dropped. */
  readonly heartbeatMs: number;
  /** How long a new socket may wait before its hello. */
  readonly helloTimeoutMs: number;
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -2);
  return out === text ? out : `${out.slice(0, -1)}…`;
}

class DeviceSession {
  device?: DeviceRecord;
  /** Commands already sent on this socket (a reconnect gets a new session, and gets them again). */
  private readonly sent = new Set<string>();
  private lastSeen = Date.now();
  private readonly helloTimer: NodeJS.Timeout;
  private livenessTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: SessionSocket,
    readonly unitId: string,
    readonly remote: string,
    private readonly owner: DeviceSessions,
    private readonly opts: DeviceSessionsOptions,
  ) {
    this.helloTimer = setTimeout(() => this.close(CLOSE.policy, `no hello within ${opts.helloTimeoutMs} ms`), opts.helloTimeoutMs);
    socket.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    socket.on("close", (code, reason) => this.onClose(code, reason.toString()));
    socket.on("error", (err) => {
      // ws reports frames over maxPayload and protocol errors here, then closes with the right code.
      opts.log.warn("socket-error", { unitId, remote, error: err.message, code: (err as NodeJS.ErrnoException).code });
    });
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.livenessTimer);
    if (code !== CLOSE.normal && code !== CLOSE.goingAway) {
      this.opts.log.warn("socket-closed-by-ums", { unitId: this.unitId, deviceId: this.device?.id, remote: this.remote, closeCode: code, reason });
      this.send({ type: "error", reason });
    }
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code, closeReason(reason));
  }

  /** Sends every due command not yet sent on this socket. */
  deliverDue(): void {
    if (!this.device || this.socket.readyState !== WebSocket.OPEN) return;
    for (const c of this.opts.commands.due(this.device.id)) {
      if (this.sent.has(c.execId)) continue;
      this.sent.add(c.execId);
      this.sendCommand(c);
    }
  }

  private sendCommand(c: CommandRecord): void {
    this.send({ type: "command", commandId: c.execId, command: c.command, settings: c.settings });
    this.opts.commands.markDelivered(c);
    this.opts.log.info("command-delivered", { unitId: this.unitId, deviceId: c.deviceId, execId: c.execId, command: c.command, delivery: c.deliveries });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (isBinary) return this.close(CLOSE.unsupportedData, "binary frames are not accepted; send one JSON object per text frame");
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    let message: DeviceMessage;
    try {
      message = parseDeviceMessage(raw);
    } catch (e) {
      if (e instanceof MessageError) return this.close(e.closeCode, e.message);
      throw e;
    }
    if (!this.device && message.type !== "hello") return this.close(CLOSE.badMessage, `expected 'hello' first, got '${message.type}'`);
    switch (message.type) {
      case "hello":
        return this.onHello(message);
      case "heartbeat":
        if (this.device) this.device.lastContact = new Date();
        return this.send({ type: "heartbeat-ack", sentAt: message.sentAt });
      case "command-ack": {
        const outcome = this.opts.commands.acknowledge(this.device!.id, message.commandId);
        this.opts.log.info("command-acknowledged", { unitId: this.unitId, execId: message.commandId, outcome });
        return;
      }
      case "command-result": {
        const outcome = this.opts.commands.complete(this.device!.id, message.commandId, message.status, message.detail);
        const record = this.opts.commands.get(message.commandId);
        if (outcome === "applied" && record?.command === "settings2tc" && message.status === "ok" && record.settings) {
          Object.assign(this.device!.settings, record.settings);
        }
        this.opts.log.info("command-result", { unitId: this.unitId, execId: message.commandId, status: message.status, outcome, detail: message.detail });
        return;
      }
    }
  }

  private onHello(hello: HelloMessage): void {
    if (this.device) return this.close(CLOSE.badMessage, "a second 'hello' on one connection");
    if (hello.unitId !== this.unitId) {
      return this.close(CLOSE.unauthenticated, `hello names unit '${hello.unitId}' but the certificate is for '${this.unitId}'`);
    }
    clearTimeout(this.helloTimer);
    const known = this.opts.registry.byUnitId(this.unitId);
    this.device = this.opts.registry.enroll({
      unitId: this.unitId,
      mac: hello.mac.replace(/[:-]/g, "").toUpperCase(),
      firmware: hello.firmware,
      enrolledBy: known?.enrolledBy ?? "certificate",
    });
    this.owner.adopt(this);
    this.device.online = true;
    this.device.lastContact = new Date();
    this.device.connections++;
    this.opts.log.info("device-connected", { unitId: this.unitId, deviceId: this.device.id, remote: this.remote, connection: this.device.connections, adopted: !known });
    this.send({ type: "welcome", unitId: this.unitId, serverTime: Date.now(), heartbeatMs: this.opts.heartbeatMs });
    const limit = this.opts.heartbeatMs * 3;
    this.livenessTimer = setInterval(() => {
      if (Date.now() - this.lastSeen > limit) {
        this.opts.log.warn("heartbeat-timeout", { unitId: this.unitId, silentMs: Date.now() - this.lastSeen });
        this.socket.terminate();
      }
    }, Math.max(50, Math.floor(this.opts.heartbeatMs / 2)));
    this.deliverDue();
  }

  private onClose(code: number, reason: string): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.livenessTimer);
    const current = this.owner.release(this);
    if (current && this.device) this.device.online = false;
    this.opts.log.info("device-disconnected", { unitId: this.unitId, deviceId: this.device?.id, closeCode: code, reason: reason || undefined });
  }
}

export class DeviceSessions {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES * 4, perMessageDeflate: false });
  /** deviceId → its live session. */
  private readonly live = new Map<string, DeviceSession>();
  private readonly all = new Set<DeviceSession>();

  constructor(private readonly opts: DeviceSessionsOptions) {}

  /** The https server's `upgrade` event for the device socket path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return refuseUpgrade(this.opts.log, req, socket, { status: 400, error: "not-websocket", reason: `upgrade to '${req.headers.upgrade}' is not supported here; use a WebSocket` });
    }
    const identity = this.opts.identity.resolve(req);
    if (!identity.ok) {
      return refuseUpgrade(this.opts.log, req, socket, { status: identity.status, error: identity.error, reason: identity.reason, unitId: identity.claimedUnitId });
    }
    const { remote } = remoteOf(req);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, identity.unitId, remote));
  }

  /** Runs a session on a socket whose device is already identified (by the upgrade above, or by an ICG and re-verified). */
  attach(socket: SessionSocket, unitId: string, remote: string): void {
    this.all.add(new DeviceSession(socket, unitId, remote, this, this.opts));
  }

  /** Makes a session the device's live one, replacing (closing) an older one. */
  adopt(session: DeviceSession): void {
    const id = session.device!.id;
    const older = this.live.get(id);
    this.live.set(id, session);
    if (older && older !== session) older.close(CLOSE.replaced, "replaced by a newer connection of the same device");
  }

  /** Forgets a closed session; true when it was the device's live one. */
  release(session: DeviceSession): boolean {
    this.all.delete(session);
    const id = session.device?.id;
    if (id !== undefined && this.live.get(id) === session) {
      this.live.delete(id);
      return true;
    }
    return false;
  }

  /** Sends a device its due commands now, if it is online. */
  deliver(deviceId: string): void {
    this.live.get(deviceId)?.deliverDue();
  }

  isOnline(deviceId: string): boolean {
    return this.live.has(deviceId);
  }

  get onlineCount(): number {
    return this.live.size;
  }

  /** Closes every session (going away) and waits briefly for the close handshakes. */
  async stop(): Promise<void> {
    await Promise.all([...this.all].map((s) => closeAndWait(s.socket as WebSocket, () => s.close(CLOSE.goingAway, "the UMS is stopping"))));
    this.wss.close();
  }
}
