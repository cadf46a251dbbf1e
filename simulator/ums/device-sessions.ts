import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket, RawData } from "ws";
import { closeAndWait } from "../common/ws-close";
import { CLOSE, MAX_MESSAGE_BYTES, MessageError, parseDeviceMessage, DeviceMessage, ServerMessage, HelloMessage } from "../protocol/messages";
import type { StructuredLogger } from "../common/structured-log";
import type { DeviceRegistry, DeviceRecord } from "./device-registry";
import type { CommandQueue } from "./command-queue";
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
  /** This server's name in the store (who holds a device's session, who sent a command). */
  readonly server: () => string;
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
  /** Frames are handled one after another (each may wait for the store): a device's ack before its result. */
  private handling: Promise<void> = Promise.resolve();
  private readonly helloTimer: NodeJS.Timeout;
  private livenessTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: SessionSocket,
    readonly unitId: string,
    readonly remote: string,
    private readonly owner: DeviceSessions,
    private readonly opts: DeviceSessionsOptions,
    /** The serial of the certificate this session was opened with (recorded as the device's). */
    private readonly certificateSerial?: string,
  ) {
    this.helloTimer = setTimeout(() => this.close(CLOSE.policy, `no hello within ${opts.helloTimeoutMs} ms`), opts.helloTimeoutMs);
    socket.on("message", (data, isBinary) => {
      this.handling = this.handling.then(() => this.onFrame(data, isBinary)).catch((e: Error) => this.failed("frame", e));
      owner.track(this.handling);
    });
    socket.on("close", (code, reason) => {
      this.handling = this.handling.then(() => this.onClose(code, reason.toString())).catch((e: Error) => this.failed("close", e));
      owner.track(this.handling);
    });
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

  /** The store failed under this session (e.g. the shared database went away): logged, the socket closed so the device reconnects. */
  private failed(stage: string, e: Error): void {
    this.opts.log.error("store-error", { unitId: this.unitId, stage, error: e.message });
    if (this.socket.readyState === WebSocket.OPEN) this.close(CLOSE.internal, "the UMS could not reach its database; reconnect later");
  }

  /**
   * Sends every due command not yet sent on this socket. Each is claimed in the store (delivery
   * written) before its frame goes out: see CommandQueue for why that makes delivery exactly once.
   */
  async deliverDue(): Promise<void> {
    if (!this.device || this.socket.readyState !== WebSocket.OPEN) return;
    const device = this.device;
    for (const due of await this.opts.commands.due(device.id)) {
      // Checked and marked without a wait between, so two concurrent calls never send one command twice here.
      if (this.sent.has(due.execId)) continue;
      this.sent.add(due.execId);
      const c = await this.opts.commands.claim(due.execId, this.opts.server());
      if (!c) continue; // acknowledged meanwhile (on another server's session): not sent again
      if (this.socket.readyState !== WebSocket.OPEN) return; // claimed but not sent: due again on the next session
      this.send({ type: "command", commandId: c.execId, command: c.command, settings: c.settings });
      this.opts.log.info("command-delivered", { unitId: this.unitId, deviceId: c.deviceId, execId: c.execId, command: c.command, delivery: c.deliveries });
    }
  }

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
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
        return this.send({ type: "heartbeat-ack", sentAt: message.sentAt });
      case "command-ack": {
        const outcome = await this.opts.commands.acknowledge(this.device!.id, message.commandId);
        this.opts.log.info("command-acknowledged", { unitId: this.unitId, execId: message.commandId, outcome });
        return;
      }
      case "command-result": {
        const outcome = await this.opts.commands.complete(this.device!.id, message.commandId, message.status, message.detail);
        const record = await this.opts.commands.get(message.commandId);
        if (outcome === "applied" && record?.command === "settings2tc" && message.status === "ok" && record.settings) {
          await this.opts.registry.mergeSettings(this.device!.id, record.settings);
        }
        this.opts.log.info("command-result", { unitId: this.unitId, execId: message.commandId, status: message.status, outcome, detail: message.detail });
        return;
      }
    }
  }

  private async onHello(hello: HelloMessage): Promise<void> {
    if (this.device) return this.close(CLOSE.badMessage, "a second 'hello' on one connection");
    if (hello.unitId !== this.unitId) {
      return this.close(CLOSE.unauthenticated, `hello names unit '${hello.unitId}' but the certificate is for '${this.unitId}'`);
    }
    clearTimeout(this.helloTimer);
    const known = await this.opts.registry.byUnitId(this.unitId);
    const device = await this.opts.registry.enroll({
      unitId: this.unitId,
      mac: hello.mac.replace(/[:-]/g, "").toUpperCase(),
      firmware: hello.firmware,
      enrolledBy: known?.enrolledBy ?? "certificate",
      certificateSerial: this.certificateSerial,
    });
    if (this.socket.readyState !== WebSocket.OPEN) return; // gone while the store answered
    this.device = device;
    this.owner.adopt(this);
    await this.opts.registry.connected(device.id, this.opts.server());
    this.opts.log.info("device-connected", { unitId: this.unitId, deviceId: device.id, remote: this.remote, connection: device.connections + 1, adopted: !known, server: this.opts.server() });
    this.send({ type: "welcome", unitId: this.unitId, serverTime: Date.now(), heartbeatMs: this.opts.heartbeatMs });
    const limit = this.opts.heartbeatMs * 3;
    this.livenessTimer = setInterval(() => {
      if (Date.now() - this.lastSeen > limit) {
        this.opts.log.warn("heartbeat-timeout", { unitId: this.unitId, silentMs: Date.now() - this.lastSeen });
        this.socket.terminate();
      }
    }, Math.max(50, Math.floor(this.opts.heartbeatMs / 2)));
    await this.deliverDue();
  }

  private async onClose(code: number, reason: string): Promise<void> {
    clearTimeout(this.helloTimer);
    clearInterval(this.livenessTimer);
    const current = this.owner.release(this);
    if (current && this.device) await this.opts.registry.disconnected(this.device.id, this.opts.server());
    this.opts.log.info("device-disconnected", { unitId: this.unitId, deviceId: this.device?.id, closeCode: code, reason: reason || undefined });
  }
}

export class DeviceSessions {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES * 4, perMessageDeflate: false });
  /** deviceId → its live session. */
  private readonly live = new Map<string, DeviceSession>();
  private readonly all = new Set<DeviceSession>();
  /** Store work under way (frames, closes), waited for before the store closes. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly opts: DeviceSessionsOptions) {}

  /** Remembers store work under way until it settles. */
  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** The https server's `upgrade` event for the device socket path. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      return refuseUpgrade(this.opts.log, req, socket, { status: 400, error: "not-websocket", reason: `upgrade to '${req.headers.upgrade}' is not supported here; use a WebSocket` });
    }
    const identity = await this.opts.identity.resolve(req);
    if (!identity.ok) {
      return refuseUpgrade(this.opts.log, req, socket, { status: identity.status, error: identity.error, reason: identity.reason, unitId: identity.claimedUnitId });
    }
    const { remote } = remoteOf(req);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, identity.unitId, remote, identity.leaf.serialNumber));
  }

  /** Runs a session on a socket whose device is already identified (by the upgrade above, or by an ICG and re-verified). */
  attach(socket: SessionSocket, unitId: string, remote: string, certificateSerial?: string): void {
    this.all.add(new DeviceSession(socket, unitId, remote, this, this.opts, certificateSerial));
  }

  /** Closes the live session of a device (its certificate was revoked); true when there was one. */
  disconnect(deviceId: string, reason: string): boolean {
    const session = this.live.get(deviceId);
    session?.close(CLOSE.unauthenticated, reason);
    return session !== undefined;
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

  /** Sends a device its due commands now, if its session is on this server. */
  deliver(deviceId: string): void {
    const session = this.live.get(deviceId);
    if (!session) return;
    this.track(session.deliverDue().catch((e: Error) => this.opts.log.error("store-error", { deviceId, stage: "deliver", error: e.message })));
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
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
