import { EventEmitter } from "node:events";
import { WebSocket } from "ws";
import type { SessionCloseMessage, SessionFrameMessage } from "../protocol/icg-tunnel";
import type { SessionSocket } from "./device-sessions";

/**
 * A device's management socket as the UMS sees it when the device is connected to an ICG: frames
 * arrive and leave as `session-frame` messages on the tunnel, a close is a `session-close`. It
 * behaves like the `ws` socket DeviceSessions runs on, so a relayed device gets exactly the same
 * session (hello, heartbeats, commands, liveness) as a direct one.
 */

export type TunnelSend = (message: SessionFrameMessage | SessionCloseMessage) => boolean;

export class RelayedSocket extends EventEmitter implements SessionSocket {
  private state: number = WebSocket.OPEN;

  constructor(
    readonly sid: string,
    private readonly tunnel: TunnelSend,
  ) {
    super();
  }

  get readyState(): number {
    return this.state;
  }

  send(data: string): void {
    if (this.state !== WebSocket.OPEN) return;
    this.tunnel({ type: "session-frame", sid: this.sid, data: Buffer.from(data, "utf8").toString("base64") });
  }

  /** Closes from the UMS side: the ICG closes the device's socket with this code; no echo comes back. */
  close(code: number, reason: string): void {
    if (this.state !== WebSocket.OPEN) return;
    this.tunnel({ type: "session-close", sid: this.sid, code, reason });
    this.ended(code, reason);
  }

  /** Drops the device without a close frame (1006 tells the ICG to do the same). */
  terminate(): void {
    if (this.state === WebSocket.CLOSED) return;
    if (this.state === WebSocket.OPEN) this.tunnel({ type: "session-close", sid: this.sid, code: 1006, reason: "dropped by the UMS" });
    this.ended(1006, "");
  }

  /** A frame from the device, relayed by the ICG. */
  receive(message: SessionFrameMessage): void {
    if (this.state !== WebSocket.OPEN) return;
    this.emit("message", Buffer.from(message.data, "base64"), message.binary === true);
  }

  /** The device side closed (or the tunnel went away). */
  remoteClosed(code: number, reason: string): void {
    if (this.state === WebSocket.CLOSED) return;
    this.ended(code, reason);
  }

  private ended(code: number, reason: string): void {
    this.state = WebSocket.CLOSED;
    // Asynchronously, like ws: the session's close handler runs after the caller's own bookkeeping.
    setImmediate(() => this.emit("close", code, Buffer.from(reason, "utf8")));
  }
}
